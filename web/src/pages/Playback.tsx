import { useEffect, useRef, useState } from 'preact/hooks';
import { call } from '../api';
import type { Translate } from '../i18n';
import { useI18n } from '../i18nContext';
import { localInputValue, parseLocalInput } from '../playbackSync';
import { ExportPanel, type Selection } from './ExportPanel';
import { Alert, CameraSelect, cameraChoices, isForbidden, knownText, useLoad, When } from './pageKit';
import { SyncPlayer, type Segment } from './SyncPlayer';
import './pages.css';
interface Gap {
  start: string;
  end: string | null;
  cause: string;
}
interface Recordings {
  segments: Segment[];
  gaps: Gap[];
  retentionDays: number;
  playback: { hls: string; expiresAt: string } | { refused: string };
}
interface Outage {
  cause: string;
  startedAt: string;
  endedAt: string | null;
}
interface Hold {
  id: number;
  cameraIds: string[];
  from: string;
  to: string;
  reason: string;
  liftedAt: string | null;
}

/** The timeline looks back this far; the view then fits what was recorded. */
const LOOK_BACK_MS = 24 * 3600_000;
/** Segments closer than this are one recorded range (the playlist's own tolerance). */
const JOIN_MS = 1500;
const MIN_VIEW_MS = 60_000;
/** Cameras played side by side on one clock (a 2×2 view). */
export const MAX_SYNC = 4;
/** A press that moves further than this (px) selects a range instead of picking a time. */
const DRAG_PX = 4;

/** A cause code in words: the outage ledger's and the recorder's codes have messages; any other is shown inside one. */
export const causeText = (t: Translate, code: string): string => knownText(t, 'cause', code) ?? t('cause.other', { code });

interface Timeline {
  fromMs: number;
  toMs: number;
  recorded: Array<{ fromMs: number; toMs: number }>;
  gaps: Array<{ fromMs: number; toMs: number; cause: string }>;
  holds: Hold[];
  recordings: Recordings;
}

async function loadTimeline(cameraId: string): Promise<Timeline> {
  const toMs = Date.now();
  const lookFrom = toMs - LOOK_BACK_MS;
  const range = `from=${lookFrom}&to=${toMs}`;
  const id = encodeURIComponent(cameraId);
  const optional = <T,>(p: Promise<T>, none: T) => p.catch((err: unknown) => (isForbidden(err) ? none : Promise.reject(err)));
  const [recordings, outages, holds] = await Promise.all([
    call<Recordings>('GET', `/cameras/${id}/recordings?${range}`),
    // Without incidents.read or holds.read the timeline shows the recorder's own causes and no holds.
    optional(
      call<{ items: Outage[] }>(
        'GET',
        `/outages?cameraId=${id}&from=${new Date(lookFrom).toISOString()}&to=${new Date(toMs).toISOString()}`,
      ),
      { items: [] },
    ),
    optional(call<{ items: Hold[] }>('GET', '/holds'), { items: [] }),
  ]);
  // A gap's cause is the outage ledger's where an outage overlaps it (why the camera was down), else the recorder's.
  const gaps = recordings.gaps.map((g) => {
    const [fromMs, endMs] = [Date.parse(g.start), g.end === null ? toMs : Date.parse(g.end)];
    const outage = outages.items.find((o) => Date.parse(o.startedAt) <= endMs && (o.endedAt === null || Date.parse(o.endedAt) >= fromMs));
    return { fromMs, toMs: endMs, cause: outage?.cause ?? g.cause };
  });
  // Neighbouring segments are one range unless a gap opened between them (however short).
  const recorded: Timeline['recorded'] = [];
  for (const s of recordings.segments) {
    const [fromMs, endMs] = [Date.parse(s.start), Date.parse(s.end)];
    const last = recorded.at(-1);
    const split = last !== undefined && gaps.some((g) => g.fromMs >= last.toMs && g.fromMs < fromMs);
    if (last !== undefined && !split && fromMs - last.toMs <= JOIN_MS) last.toMs = Math.max(last.toMs, endMs);
    else recorded.push({ fromMs, toMs: endMs });
  }
  // The view fits what was recorded (at least a minute; the last hour when nothing was).
  const starts = [...recorded.map((r) => r.fromMs), ...gaps.map((g) => g.fromMs)];
  const first = starts.length === 0 ? toMs - 3600_000 : Math.min(...starts, toMs - MIN_VIEW_MS);
  const fromMs = Math.max(lookFrom, first);
  const shown = holds.items.filter(
    (h) => h.liftedAt === null && h.cameraIds.includes(cameraId) && Date.parse(h.from) < toMs && Date.parse(h.to) > fromMs,
  );
  return { fromMs, toMs, recorded, gaps, holds: shown, recordings };
}

/**
 * Recorded playback: the first camera's ranges, gaps with causes and evidence holds on a
 * timeline (the others' ranges in lanes below, on the same axis); click to play all of them
 * from a time on one clock, drag to select a range to export.
 */
export function PlaybackPage({ onSessionLost }: { onSessionLost: () => void }) {
  const { t } = useI18n();
  const cameras = useLoad(cameraChoices, [], onSessionLost);
  const [cameraId, setCameraId] = useState('');
  const [synced, setSynced] = useState<string[]>(Array(MAX_SYNC - 1).fill(''));
  const others = [...new Set(synced.filter((id) => id !== '' && id !== cameraId))];
  const timeline = useLoad(() => (cameraId === '' ? Promise.resolve(null) : loadTimeline(cameraId)), [cameraId], onSessionLost);
  const lanes = useLoad(() => Promise.all(others.map((id) => loadTimeline(id))), [others.join(',')], onSessionLost);
  const [startMs, setStartMs] = useState<number | null>(null);
  const [selection, setSelection] = useState<Selection | null>(null);
  const [drag, setDrag] = useState<{ x: number; ms: number; to: number | null } | null>(null);
  const [jumpTo, setJumpTo] = useState('');
  const [jumpError, setJumpError] = useState<string | null>(null);
  const line = useRef<HTMLDivElement>(null);
  const tl = timeline.data;
  const laneData = lanes.data !== null && lanes.data.length === others.length ? lanes.data : [];
  // One axis for every camera shown: from the earliest start to the latest end.
  const view =
    tl === null
      ? null
      : { fromMs: Math.min(tl.fromMs, ...laneData.map((l) => l.fromMs)), toMs: Math.max(tl.toMs, ...laneData.map((l) => l.toMs)) };

  useEffect(() => {
    setStartMs(null);
    setSelection(null);
  }, [cameraId]);

  const pct = (ms: number) => (view === null ? 0 : ((ms - view.fromMs) / (view.toMs - view.fromMs)) * 100);
  // Within the view: a segment still being written ends after it, and must not widen the page.
  const span = (fromMs: number, toMs: number) => {
    const [left, right] = [fromMs, toMs].map((ms) => Math.min(100, Math.max(0, pct(ms)))) as [number, number];
    const width = Math.max(0.2, right - left);
    return { left: `${Math.min(left, 100 - width)}%`, width: `${width}%` };
  };
  const timeAt = (clientX: number) => {
    const box = line.current?.getBoundingClientRect();
    if (view === null || box === undefined) return 0;
    const share = Math.min(1, Math.max(0, (clientX - box.left) / box.width));
    return Math.round(view.fromMs + share * (view.toMs - view.fromMs));
  };
  const onDown = (e: MouseEvent) => {
    if (e.button === 0) setDrag({ x: e.clientX, ms: timeAt(e.clientX), to: null });
  };
  const onMove = (e: MouseEvent) => {
    if (drag !== null && (drag.to !== null || Math.abs(e.clientX - drag.x) > DRAG_PX)) setDrag({ ...drag, to: timeAt(e.clientX) });
  };
  const onUp = (e: MouseEvent) => {
    if (drag === null) return;
    setDrag(null);
    if (drag.to === null) return setStartMs(timeAt(e.clientX));
    const to = timeAt(e.clientX);
    if (to !== drag.ms) setSelection({ fromMs: Math.min(drag.ms, to), toMs: Math.max(drag.ms, to) });
  };
  // The keyboard's way to a time: arrows step a hundredth of the view (Home, End: its ends).
  const step = (e: KeyboardEvent) => {
    if (view === null) return;
    const at = startMs ?? view.fromMs;
    const stride = (view.toMs - view.fromMs) / 100;
    const next =
      e.key === 'ArrowRight'
        ? at + stride
        : e.key === 'ArrowLeft'
          ? at - stride
          : e.key === 'Home'
            ? view.fromMs
            : e.key === 'End'
              ? view.toMs - stride
              : null;
    if (next === null) return;
    e.preventDefault();
    setStartMs(Math.round(Math.min(view.toMs, Math.max(view.fromMs, next))));
  };
  const jump = (e: Event) => {
    e.preventDefault();
    const ms = parseLocalInput(jumpTo);
    if (ms === null) return setJumpError(t('playback.jumpInvalid'));
    setJumpError(null);
    setStartMs(ms);
  };
  const shownSelection = drag?.to != null ? { fromMs: Math.min(drag.ms, drag.to), toMs: Math.max(drag.ms, drag.to) } : selection;
  const choices = cameras.data ?? [];
  const playing = [cameraId, ...others].map((id) => ({ id, name: choices.find((c) => c.id === id)?.name ?? id }));

  return (
    <section aria-labelledby="playback-heading" class="page">
      <h2 id="playback-heading">{t('playback.heading')}</h2>
      <Alert text={cameras.error ?? timeline.error ?? lanes.error} />
      <CameraSelect cameras={choices} value={cameraId} onChange={setCameraId} testId="playback-camera" />
      {cameraId !== '' && (
        <fieldset class="tools" data-testid="sync-cameras">
          <legend>{t('playback.sync')}</legend>
          {synced.map((id, i) => (
            <CameraSelect
              key={i}
              cameras={choices.filter((c) => c.id !== cameraId)}
              value={id}
              onChange={(next) => setSynced(synced.map((v, j) => (j === i ? next : v)))}
              testId={`sync-camera-${i + 2}`}
              label={t('playback.syncCamera', { n: i + 2 })}
            />
          ))}
        </fieldset>
      )}
      {tl !== null && view !== null && (
        <>
          <p class="legend">
            <span class="swatch rec" /> {t('playback.recorded')} <span class="swatch gap" /> {t('playback.gap')}{' '}
            <span class="swatch hold" /> {t('playback.hold')} <span class="swatch selected" /> {t('playback.selection')}
          </p>
          <div
            ref={line}
            class="timeline"
            data-testid="timeline"
            data-from={view.fromMs}
            data-to={view.toMs}
            role="slider"
            tabIndex={0}
            aria-label={t('playback.timeline')}
            aria-valuemin={view.fromMs}
            aria-valuemax={view.toMs}
            aria-valuenow={startMs ?? view.fromMs}
            aria-valuetext={new Date(startMs ?? view.fromMs).toLocaleString()}
            onMouseDown={onDown}
            onMouseMove={onMove}
            onMouseUp={onUp}
            onMouseLeave={() => setDrag(null)}
            onKeyDown={step}
          >
            {tl.holds.map((h) => (
              <div key={`h${h.id}`} class="hold" style={span(Date.parse(h.from), Date.parse(h.to))} data-hold={h.id} />
            ))}
            {tl.recorded.map((r) => (
              <div key={`r${r.fromMs}`} class="rec" style={span(r.fromMs, r.toMs)} data-from={r.fromMs} data-to={r.toMs} />
            ))}
            {tl.gaps.map((g) => (
              <div key={`g${g.fromMs}`} class="gap" style={span(g.fromMs, g.toMs)} data-cause={g.cause} title={causeText(t, g.cause)} />
            ))}
            {shownSelection !== null && (
              <div
                class="selection"
                data-testid="selection"
                style={span(shownSelection.fromMs, shownSelection.toMs)}
                data-from={shownSelection.fromMs}
                data-to={shownSelection.toMs}
              />
            )}
            {startMs !== null && <div class="cursor" style={{ left: `${pct(startMs)}%` }} />}
          </div>
          {laneData.map((lane, i) => (
            <div key={others[i]} class="timeline lane" data-testid="timeline-lane" data-camera-id={others[i]} aria-hidden="true">
              {lane.recorded.map((r) => (
                <div key={`r${r.fromMs}`} class="rec" style={span(r.fromMs, r.toMs)} data-from={r.fromMs} data-to={r.toMs} />
              ))}
              {lane.gaps.map((g) => (
                <div key={`g${g.fromMs}`} class="gap" style={span(g.fromMs, g.toMs)} data-cause={g.cause} />
              ))}
            </div>
          ))}
          <p class="axis">
            <When iso={view.fromMs} /> <When iso={view.toMs} />
          </p>
          <form class="filters" data-testid="jump" onSubmit={jump}>
            <label>
              {t('playback.jumpTo')}{' '}
              <input
                type="datetime-local"
                step={1}
                name="jump-to"
                value={jumpTo}
                onInput={(e) => setJumpTo((e.currentTarget as HTMLInputElement).value)}
                onFocus={() => jumpTo === '' && setJumpTo(localInputValue(startMs ?? view.fromMs))}
              />
            </label>{' '}
            <button type="submit">{t('playback.jump')}</button>
          </form>
          <Alert text={jumpError} />
          {startMs === null ? (
            <p>{t('playback.clickToPlay')}</p>
          ) : (
            <SyncPlayer cameras={playing} startMs={startMs} toMs={view.toMs} onSessionLost={onSessionLost} />
          )}
          <ExportPanel cameraId={cameraId} selection={selection} onSelect={setSelection} onSessionLost={onSessionLost} />
          <h3>{t('playback.gaps')}</h3>
          {tl.gaps.length === 0 ? (
            <p>{t('playback.noGaps')}</p>
          ) : (
            <table data-testid="gaps">
              <thead>
                <tr>
                  <th scope="col">{t('playback.from')}</th>
                  <th scope="col">{t('playback.to')}</th>
                  <th scope="col">{t('playback.cause')}</th>
                </tr>
              </thead>
              <tbody>
                {tl.gaps.map((g) => (
                  <tr key={g.fromMs} data-cause={g.cause}>
                    <td>
                      <When iso={g.fromMs} />
                    </td>
                    <td>
                      <When iso={g.toMs} />
                    </td>
                    <td>{causeText(t, g.cause)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <h3>{t('playback.holds')}</h3>
          {tl.holds.length === 0 ? (
            <p>{t('playback.noHolds')}</p>
          ) : (
            <table data-testid="holds">
              <thead>
                <tr>
                  <th scope="col">{t('playback.from')}</th>
                  <th scope="col">{t('playback.to')}</th>
                  <th scope="col">{t('playback.reason')}</th>
                </tr>
              </thead>
              <tbody>
                {tl.holds.map((h) => (
                  <tr key={h.id} data-hold={h.id}>
                    <td>
                      <When iso={h.from} />
                    </td>
                    <td>
                      <When iso={h.to} />
                    </td>
                    <td data-user-text>{h.reason}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </section>
  );
}
