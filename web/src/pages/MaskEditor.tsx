import { useEffect, useRef, useState } from 'preact/hooks';
import { call, callBlob, isApiError } from '../api';
import { useI18n } from '../i18nContext';
import { hitMask, hitVertex, moveMask, moveVertex, resizeRect, round, type Mask, type MaskMode as Mode, type Point } from '../maskGeometry';
import { Alert, CameraSelect, cameraChoices, errorText, useLoad } from './pageKit';
import './pages.css';

/** Draw a rectangle, draw a polygon, or select and edit existing shapes. */
type Tool = 'rect' | 'polygon' | 'edit';
type Saved = { kind: 'applied' } | { kind: 'pending'; id: string };
/** What a press in the edit tool holds: the whole shape (moved by the drag) or one polygon vertex. */
type Grab = { kind: 'move'; from: Point; original: Mask } | { kind: 'vertex'; index: number };

const MODES: Mode[] = ['fill', 'blur', 'mosaic'];
/** How near (fraction of the frame) a press must be to grab a polygon vertex. */
const VERTEX_REACH = 0.03;
/** Arrow keys move the selected shape this far (with Shift, five times as far). */
const KEY_STEP = 0.01;
/** A dark tier's snapshot is asked for again this often, while its camera stays chosen. */
const SNAPSHOT_RETRY_MS = 2000;

interface CameraMasks {
  masks: Mask[];
}

/** The shared tier's current picture, drawn on a canvas (the CSP lets no blob: into an <img>). */
async function snapshot(cameraId: string): Promise<ImageBitmap> {
  return createImageBitmap(await callBlob(`/cameras/${encodeURIComponent(cameraId)}/snapshot?tier=shared`));
}

/** Draw and edit rectangles and polygons on a live snapshot, choose fill, blur or mosaic, save through PATCH /cameras/:id. */
export function MaskEditorPage({ onSessionLost }: { onSessionLost: () => void }) {
  const { t } = useI18n();
  const cameras = useLoad(cameraChoices, [], onSessionLost);
  const [cameraId, setCameraId] = useState('');
  const [masks, setMasks] = useState<Mask[]>([]);
  const [tool, setTool] = useState<Tool>('rect');
  const [mode, setMode] = useState<Mode>('fill');
  const [draft, setDraft] = useState<Point[]>([]);
  const [drag, setDrag] = useState<{ from: Point; to: Point } | null>(null);
  const [selected, setSelected] = useState<number | null>(null);
  const [grab, setGrab] = useState<Grab | null>(null);
  const [picture, setPicture] = useState<ImageBitmap | null>(null);
  // Snapshots drawn so far: a refreshed preview is told apart from the one before.
  const [shots, setShots] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState<Saved | null>(null);
  const canvas = useRef<HTMLCanvasElement>(null);

  const fail = (err: unknown) => {
    if (isApiError(err) && err.status === 401) return onSessionLost();
    setError(errorText(t, err));
  };
  // The camera whose picture is wanted now, and a pending retry of a dark tier's snapshot.
  const wanted = useRef('');
  const retry = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const refresh = () => {
    const id = cameraId;
    if (id === '') return;
    clearTimeout(retry.current);
    snapshot(id).then(
      (p) => {
        if (wanted.current !== id) return;
        setPicture(p);
        setShots((n) => n + 1);
        setError(null);
      },
      (err: unknown) => {
        if (wanted.current !== id) return;
        fail(err);
        // A tier that is (re)starting, after a camera came up or its masks changed, has a picture soon: ask again.
        if (isApiError(err) && err.code === 'STREAM_DARK') retry.current = setTimeout(refresh, SNAPSHOT_RETRY_MS);
      },
    );
  };
  useEffect(() => {
    wanted.current = cameraId;
    setPicture(null);
    setSaved(null);
    setDraft([]);
    setSelected(null);
    if (cameraId === '') return;
    call<CameraMasks>('GET', `/cameras/${encodeURIComponent(cameraId)}`).then((c) => setMasks(c.masks), fail);
    refresh();
    return () => {
      wanted.current = '';
      clearTimeout(retry.current);
    };
  }, [cameraId]);

  useEffect(() => {
    const el = canvas.current;
    const g = el?.getContext('2d');
    if (!el || !g) return;
    if (picture !== null) {
      el.width = picture.width;
      el.height = picture.height;
      g.drawImage(picture, 0, 0);
    } else g.clearRect(0, 0, el.width, el.height);
    const [w, h] = [el.width, el.height];
    const outline = (points: Point[], color: string, close: boolean) => {
      g.strokeStyle = color;
      g.lineWidth = 2;
      g.beginPath();
      points.forEach(([x, y], i) => (i === 0 ? g.moveTo(x * w, y * h) : g.lineTo(x * w, y * h)));
      if (close) g.closePath();
      g.stroke();
    };
    masks.forEach((m, i) => outline(m.shape === 'rect' ? corners(m) : m.points, i === selected ? '#4cff8d' : '#ffcc00', true));
    // The selected shape's handles: its corners or vertices.
    const chosen = selected === null ? undefined : masks[selected];
    if (chosen !== undefined) {
      g.fillStyle = '#4cff8d';
      for (const [x, y] of chosen.shape === 'rect' ? corners(chosen) : chosen.points) g.fillRect(x * w - 4, y * h - 4, 8, 8);
    }
    if (drag !== null) outline(corners(rectOf(drag.from, drag.to, mode)), '#4c8dff', true);
    if (draft.length > 0) outline(draft, '#4c8dff', false);
  }, [picture, masks, drag, draft, selected]);

  const at = (e: MouseEvent): Point => {
    const box = (e.currentTarget as HTMLElement).getBoundingClientRect();
    return [round((e.clientX - box.left) / box.width), round((e.clientY - box.top) / box.height)];
  };
  const replace = (index: number, m: Mask) => setMasks(masks.map((old, i) => (i === index ? m : old)));
  const remove = (index: number) => {
    setMasks(masks.filter((_, j) => j !== index));
    setSelected(null);
  };
  const onDown = (e: MouseEvent) => {
    if (tool === 'rect') return setDrag({ from: at(e), to: at(e) });
    if (tool !== 'edit') return;
    const p = at(e);
    // A vertex of the selected polygon first, then the topmost shape under the press.
    const current = selected === null ? undefined : masks[selected];
    const vertex = current === undefined ? -1 : hitVertex(current, p, VERTEX_REACH);
    if (vertex >= 0) return setGrab({ kind: 'vertex', index: vertex });
    const hit = hitMask(masks, p);
    setSelected(hit < 0 ? null : hit);
    setGrab(hit < 0 ? null : { kind: 'move', from: p, original: masks[hit]! });
  };
  const onMove = (e: MouseEvent) => {
    if (drag !== null) setDrag({ ...drag, to: at(e) });
    if (grab === null || selected === null) return;
    const p = at(e);
    const m = masks[selected];
    if (grab.kind === 'move') replace(selected, moveMask(grab.original, p[0] - grab.from[0], p[1] - grab.from[1]));
    else if (m?.shape === 'polygon') replace(selected, moveVertex(m, grab.index, p));
  };
  const onUp = (e: MouseEvent) => {
    if (tool === 'edit') return setGrab(null);
    if (tool === 'polygon') return setDraft([...draft, at(e)]);
    if (drag === null) return;
    const rect = rectOf(drag.from, at(e), mode);
    setDrag(null);
    if (rect.w > 0 && rect.h > 0) setMasks([...masks, rect]);
  };
  // The keyboard's way to edit: arrows move the selected shape, Delete removes it, Escape lets go.
  const onKey = (e: KeyboardEvent) => {
    if (selected === null) return;
    const m = masks[selected];
    if (m === undefined) return;
    const stride = e.shiftKey ? 5 * KEY_STEP : KEY_STEP;
    const moves: Record<string, Point> = {
      ArrowLeft: [-stride, 0],
      ArrowRight: [stride, 0],
      ArrowUp: [0, -stride],
      ArrowDown: [0, stride],
    };
    const move = moves[e.key];
    if (move !== undefined) replace(selected, moveMask(m, move[0], move[1]));
    else if (e.key === 'Delete' || e.key === 'Backspace') remove(selected);
    else if (e.key === 'Escape') setSelected(null);
    else return;
    e.preventDefault();
  };
  const closePolygon = () => {
    if (draft.length >= 3) setMasks([...masks, { shape: 'polygon', points: draft, mode }]);
    setDraft([]);
  };
  const save = async () => {
    setSaved(null);
    try {
      // A change that uncovers anything waits for a second admin: the API answers 202 with the pending change.
      const res = await call<{ id?: string; state?: string }>('PATCH', `/cameras/${encodeURIComponent(cameraId)}`, { masks });
      setSaved(res.state === 'pending' && typeof res.id === 'string' ? { kind: 'pending', id: res.id } : { kind: 'applied' });
      setError(null);
    } catch (err) {
      fail(err);
    }
  };

  return (
    <section aria-labelledby="masks-heading" class="page">
      <h2 id="masks-heading">{t('masks.heading')}</h2>
      <Alert text={cameras.error ?? error} />
      <CameraSelect cameras={cameras.data ?? []} value={cameraId} onChange={setCameraId} testId="mask-camera" />
      {cameraId !== '' && (
        <>
          <fieldset class="tools">
            <legend>{t('masks.tool')}</legend>
            {(['rect', 'polygon', 'edit'] as const).map((k) => (
              <label key={k}>
                <input type="radio" name="tool" value={k} checked={tool === k} onChange={() => (setTool(k), setDraft([]))} />
                {t(k === 'rect' ? 'masks.rect' : k === 'polygon' ? 'masks.polygon' : 'masks.edit')}
              </label>
            ))}
            <ModeSelect testId="mask-mode" value={mode} onChange={setMode} />
            {tool === 'polygon' && (
              <button type="button" data-testid="close-polygon" disabled={draft.length < 3} onClick={closePolygon}>
                {t('masks.closePolygon')}
              </button>
            )}
          </fieldset>
          <canvas
            ref={canvas}
            class="snapshot"
            data-testid="mask-canvas"
            data-loaded={picture !== null}
            data-snapshots={shots}
            data-tool={tool}
            tabIndex={0}
            aria-label={t('masks.canvas')}
            aria-describedby="masks-keys"
            onMouseDown={onDown}
            onMouseMove={onMove}
            onMouseUp={onUp}
            onMouseLeave={() => setGrab(null)}
            onKeyDown={onKey}
          />
          <p id="masks-keys" class="mask-keys">
            {t('masks.keys')}
          </p>
          <h3>{t('masks.list')}</h3>
          {masks.length === 0 ? (
            <p>{t('masks.none')}</p>
          ) : (
            <ol data-testid="mask-list">
              {masks.map((m, i) => (
                <li key={i} data-shape={m.shape} data-mode={m.mode} data-selected={i === selected}>
                  <label>
                    <input
                      type="radio"
                      name="selected-mask"
                      checked={i === selected}
                      onChange={() => {
                        setSelected(i);
                        setTool('edit');
                      }}
                    />
                    {t('masks.item', { shape: t(m.shape === 'rect' ? 'masks.rect' : 'masks.polygon'), mode: t(`masks.mode.${m.mode}`) })}
                  </label>{' '}
                  <button type="button" onClick={() => remove(i)}>
                    {t('masks.remove')}
                  </button>
                </li>
              ))}
            </ol>
          )}
          {selected !== null && masks[selected] !== undefined && (
            <ShapeFields mask={masks[selected]!} onChange={(m) => replace(selected, m)} />
          )}
          <p class="controls">
            <button type="button" data-testid="mask-save" onClick={() => void save()}>
              {t('masks.save')}
            </button>
            <button type="button" data-testid="mask-preview" onClick={refresh}>
              {t('masks.preview')}
            </button>
          </p>
          {saved !== null && (
            <p role="status" data-testid="mask-saved" data-saved={saved.kind}>
              {saved.kind === 'applied' ? t('masks.applied') : t('masks.pending', { id: saved.id })}
            </p>
          )}
        </>
      )}
    </section>
  );
}

/** The selected shape's effect and coordinates (percent of the frame) as fields: editing it without a pointer. */
function ShapeFields({ mask, onChange }: { mask: Mask; onChange: (m: Mask) => void }) {
  const { t } = useI18n();
  const percent = (v: number) => Math.round(v * 10_000) / 100;
  const field = (label: string, name: string, value: number, set: (fraction: number) => void) => (
    <label key={name}>
      {label}{' '}
      <input
        type="number"
        name={name}
        min={0}
        max={100}
        step={0.1}
        value={percent(value)}
        onChange={(e) => {
          const v = Number((e.currentTarget as HTMLInputElement).value);
          if (Number.isFinite(v)) set(v / 100);
        }}
      />
    </label>
  );
  return (
    <fieldset class="tools" data-testid="mask-selected" data-shape={mask.shape}>
      <legend>{t('masks.selected')}</legend>
      <ModeSelect testId="selected-mode" value={mask.mode} onChange={(m) => onChange({ ...mask, mode: m })} />
      {mask.shape === 'rect'
        ? (['x', 'y', 'w', 'h'] as const).map((k) =>
            field(t(`masks.field.${k}`), `mask-${k}`, mask[k], (v) => onChange(resizeRect(mask, k, v))),
          )
        : mask.points.flatMap(([x, y], i) => [
            field(t('masks.field.pointX', { n: i + 1 }), `mask-point-${i}-x`, x, (v) => onChange(moveVertex(mask, i, [v, y]))),
            field(t('masks.field.pointY', { n: i + 1 }), `mask-point-${i}-y`, y, (v) => onChange(moveVertex(mask, i, [x, v]))),
          ])}
    </fieldset>
  );
}

function rectOf(a: Point, b: Point, mode: Mode): Extract<Mask, { shape: 'rect' }> {
  const [x, y] = [Math.min(a[0], b[0]), Math.min(a[1], b[1])];
  return { shape: 'rect', x, y, w: round(Math.abs(a[0] - b[0])), h: round(Math.abs(a[1] - b[1])), mode };
}

function corners(m: { x: number; y: number; w: number; h: number }): Point[] {
  return [
    [m.x, m.y],
    [m.x + m.w, m.y],
    [m.x + m.w, m.y + m.h],
    [m.x, m.y + m.h],
  ];
}

/** Fill, blur or mosaic: for the shapes still to be drawn, or for the selected one. */
function ModeSelect({ testId, value, onChange }: { testId: string; value: Mode; onChange: (m: Mode) => void }) {
  const { t } = useI18n();
  return (
    <label>
      {t('masks.mode')}{' '}
      <select data-testid={testId} value={value} onChange={(e) => onChange((e.currentTarget as HTMLSelectElement).value as Mode)}>
        {MODES.map((m) => (
          <option key={m} value={m}>
            {t(`masks.mode.${m}`)}
          </option>
        ))}
      </select>
    </label>
  );
}
