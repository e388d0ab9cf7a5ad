import { useEffect, useRef, useState } from 'preact/hooks';
import { call, callBlob, isApiError } from '../api';
import { useI18n } from '../i18nContext';
import { Alert, CameraSelect, cameraChoices, errorText, useLoad } from './pageKit';
import './pages.css';

type Mode = 'fill' | 'blur' | 'mosaic';
type Point = [number, number];
/** The API's mask shapes; coordinates are fractions of the frame (0 to 1). */
type Mask = { shape: 'rect'; x: number; y: number; w: number; h: number; mode: Mode } | { shape: 'polygon'; points: Point[]; mode: Mode };
type Tool = 'rect' | 'polygon';
type Saved = { kind: 'applied' } | { kind: 'pending'; id: string };

const MODES: Mode[] = ['fill', 'blur', 'mosaic'];
/** Corners of a drawn rectangle are rounded to this grid so the API's validation of 0..1 is never missed by a float. */
const round = (v: number) => Math.min(1, Math.max(0, Math.round(v * 10_000) / 10_000));

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
  const refresh = () => {
    if (cameraId === '') return;
    snapshot(cameraId).then((p) => {
      setPicture(p);
      setShots((n) => n + 1);
      setError(null);
    }, fail);
  };
  useEffect(() => {
    setPicture(null);
    setSaved(null);
    setDraft([]);
    if (cameraId === '') return;
    call<CameraMasks>('GET', `/cameras/${encodeURIComponent(cameraId)}`).then((c) => setMasks(c.masks), fail);
    refresh();
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
    for (const m of masks) outline(m.shape === 'rect' ? corners(m) : m.points, '#ffcc00', true);
    if (drag !== null) outline(corners(rectOf(drag.from, drag.to, mode)), '#4c8dff', true);
    if (draft.length > 0) outline(draft, '#4c8dff', false);
  }, [picture, masks, drag, draft]);

  const at = (e: MouseEvent): Point => {
    const box = (e.currentTarget as HTMLElement).getBoundingClientRect();
    return [round((e.clientX - box.left) / box.width), round((e.clientY - box.top) / box.height)];
  };
  const onDown = (e: MouseEvent) => {
    if (tool === 'rect') setDrag({ from: at(e), to: at(e) });
  };
  const onMove = (e: MouseEvent) => {
    if (drag !== null) setDrag({ ...drag, to: at(e) });
  };
  const onUp = (e: MouseEvent) => {
    if (tool === 'polygon') return setDraft([...draft, at(e)]);
    if (drag === null) return;
    const rect = rectOf(drag.from, at(e), mode);
    setDrag(null);
    if (rect.w > 0 && rect.h > 0) setMasks([...masks, rect]);
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
            {(['rect', 'polygon'] as const).map((k) => (
              <label key={k}>
                <input type="radio" name="tool" value={k} checked={tool === k} onChange={() => (setTool(k), setDraft([]))} />
                {t(k === 'rect' ? 'masks.rect' : 'masks.polygon')}
              </label>
            ))}
            <label>
              {t('masks.mode')}{' '}
              <select data-testid="mask-mode" value={mode} onChange={(e) => setMode((e.currentTarget as HTMLSelectElement).value as Mode)}>
                {MODES.map((m) => (
                  <option key={m} value={m}>
                    {t(`masks.mode.${m}`)}
                  </option>
                ))}
              </select>
            </label>
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
            aria-label={t('masks.canvas')}
            onMouseDown={onDown}
            onMouseMove={onMove}
            onMouseUp={onUp}
          />
          <h3>{t('masks.list')}</h3>
          {masks.length === 0 ? (
            <p>{t('masks.none')}</p>
          ) : (
            <ol data-testid="mask-list">
              {masks.map((m, i) => (
                <li key={i} data-shape={m.shape} data-mode={m.mode}>
                  <span>
                    {t('masks.item', { shape: t(m.shape === 'rect' ? 'masks.rect' : 'masks.polygon'), mode: t(`masks.mode.${m.mode}`) })}
                  </span>{' '}
                  <button type="button" onClick={() => setMasks(masks.filter((_, j) => j !== i))}>
                    {t('masks.remove')}
                  </button>
                </li>
              ))}
            </ol>
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
