import { useEffect, useRef, useState } from 'preact/hooks';
import { call } from '../api';
import type { Translate } from '../i18n';
import { useI18n } from '../i18nContext';
import { Alert, CameraSelect, cameraChoices, isForbidden, knownText, useLoad, When } from './pageKit';
import './pages.css';

interface Segment {
  seq: number;
  start: string;
  end: string;
}
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
const SPEEDS = [0.5, 1, 2, 4];
const MIN_VIEW_MS = 60_000;

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

/** Recorded playback of one camera: ranges, gaps with causes, evidence holds; click to play from a time. */
export function PlaybackPage({ onSessionLost }: { onSessionLost: () => void }) {
  const { t } = useI18n();
  const cameras = useLoad(cameraChoices, [], onSessionLost);
  const [cameraId, setCameraId] = useState('');
  const timeline = useLoad(() => (cameraId === '' ? Promise.resolve(null) : loadTimeline(cameraId)), [cameraId], onSessionLost);
  const [startMs, setStartMs] = useState<number | null>(null);
  const tl = timeline.data;

  useEffect(() => setStartMs(null), [cameraId]);

  const pct = (ms: number) => (tl === null ? 0 : ((ms - tl.fromMs) / (tl.toMs - tl.fromMs)) * 100);
  // Within the view: a segment still being written ends after it, and must not widen the page.
  const span = (fromMs: number, toMs: number) => {
    const [left, right] = [fromMs, toMs].map((ms) => Math.min(100, Math.max(0, pct(ms)))) as [number, number];
    const width = Math.max(0.2, right - left);
    return { left: `${Math.min(left, 100 - width)}%`, width: `${width}%` };
  };
  const pick = (e: MouseEvent) => {
    if (tl === null) return;
    const box = (e.currentTarget as HTMLElement).getBoundingClientRect();
    setStartMs(Math.round(tl.fromMs + ((e.clientX - box.left) / box.width) * (tl.toMs - tl.fromMs)));
  };
  // The keyboard's way to a time: arrows step a hundredth of the view (Home, End: its ends).
  const step = (e: KeyboardEvent) => {
    if (tl === null) return;
    const at = startMs ?? tl.fromMs;
    const stride = (tl.toMs - tl.fromMs) / 100;
    const next =
      e.key === 'ArrowRight'
        ? at + stride
        : e.key === 'ArrowLeft'
          ? at - stride
          : e.key === 'Home'
            ? tl.fromMs
            : e.key === 'End'
              ? tl.toMs - stride
              : null;
    if (next === null) return;
    e.preventDefault();
    setStartMs(Math.round(Math.min(tl.toMs, Math.max(tl.fromMs, next))));
  };

  return (
    <section aria-labelledby="playback-heading" class="page">
      <h2 id="playback-heading">{t('playback.heading')}</h2>
      <Alert text={cameras.error ?? timeline.error} />
      <CameraSelect cameras={cameras.data ?? []} value={cameraId} onChange={setCameraId} testId="playback-camera" />
      {tl !== null && (
        <>
          <p class="legend">
            <span class="swatch rec" /> {t('playback.recorded')} <span class="swatch gap" /> {t('playback.gap')}{' '}
            <span class="swatch hold" /> {t('playback.hold')}
          </p>
          <div
            class="timeline"
            data-testid="timeline"
            data-from={tl.fromMs}
            data-to={tl.toMs}
            role="slider"
            tabIndex={0}
            aria-label={t('playback.timeline')}
            aria-valuemin={tl.fromMs}
            aria-valuemax={tl.toMs}
            aria-valuenow={startMs ?? tl.fromMs}
            aria-valuetext={new Date(startMs ?? tl.fromMs).toLocaleString()}
            onClick={pick}
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
            {startMs !== null && <div class="cursor" style={{ left: `${pct(startMs)}%` }} />}
          </div>
          <p class="axis">
            <When iso={tl.fromMs} /> <When iso={tl.toMs} />
          </p>
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
          {startMs === null ? (
            <p>{t('playback.clickToPlay')}</p>
          ) : (
            <Playing cameraId={cameraId} startMs={startMs} toMs={tl.toMs} onSessionLost={onSessionLost} />
          )}
        </>
      )}
    </section>
  );
}

/**
 * Asks the API for the range from the clicked time: the policy decides on that range (an
 * approved view_recorded request covering it), and the play URL it hands out plays only it.
 */
function Playing({
  cameraId,
  startMs,
  toMs,
  onSessionLost,
}: {
  cameraId: string;
  startMs: number;
  toMs: number;
  onSessionLost: () => void;
}) {
  const { t } = useI18n();
  const range = useLoad(
    () => call<Recordings>('GET', `/cameras/${encodeURIComponent(cameraId)}/recordings?from=${startMs}&to=${Math.max(toMs, startMs + 1)}`),
    [cameraId, startMs],
    onSessionLost,
  );
  if (range.error !== null) return <Alert text={range.error} />;
  if (range.data === null) return null;
  if ('refused' in range.data.playback) {
    return (
      <p class="error" role="alert" data-testid="playback-refused">
        {t('playback.refused', { message: range.data.playback.refused })}
      </p>
    );
  }
  return <Player hls={range.data.playback.hls} startMs={startMs} segments={range.data.segments} />;
}

/**
 * Plays the governed HLS from `startMs`: the playlist begins with the segment holding that
 * time, so the video seeks by the distance into it. The position shown is wall-clock time.
 */
function Player({ hls, startMs, segments }: { hls: string; startMs: number; segments: Segment[] }) {
  const { t } = useI18n();
  const video = useRef<HTMLVideoElement>(null);
  const [playing, setPlaying] = useState(false);
  const [speed, setSpeed] = useState(1);
  const [position, setPosition] = useState<number | null>(null);
  const [failed, setFailed] = useState(false);
  const first = segments.find((s) => Date.parse(s.end) > startMs) ?? null;
  const baseMs = first === null ? startMs : Date.parse(first.start);

  useEffect(() => {
    const el = video.current;
    if (el === null || first === null) return;
    setFailed(false);
    setPosition(null);
    const onMeta = () => {
      el.currentTime = Math.max(0, (startMs - baseMs) / 1000);
      void el.play().catch(() => setPlaying(false));
    };
    const onTime = () => setPosition(baseMs + el.currentTime * 1000);
    const onError = () => setFailed(true);
    const onPlay = () => setPlaying(true);
    const onPause = () => setPlaying(false);
    el.addEventListener('loadedmetadata', onMeta, { once: true });
    el.addEventListener('timeupdate', onTime);
    el.addEventListener('error', onError);
    el.addEventListener('play', onPlay);
    el.addEventListener('pause', onPause);
    el.src = hls;
    return () => {
      el.removeEventListener('loadedmetadata', onMeta);
      el.removeEventListener('timeupdate', onTime);
      el.removeEventListener('error', onError);
      el.removeEventListener('play', onPlay);
      el.removeEventListener('pause', onPause);
      el.removeAttribute('src');
      el.load();
    };
  }, [hls, startMs]);
  useEffect(() => {
    if (video.current !== null) video.current.playbackRate = speed;
  }, [speed, position === null]);

  if (first === null) return <p role="alert">{t('playback.nothingAfter')}</p>;
  return (
    <div class="player" data-testid="player" data-start={startMs} data-position={position === null ? '' : Math.round(position)}>
      <video ref={video} muted playsInline data-testid="playback-video" />
      <p class="controls">
        <button type="button" data-testid="play-pause" onClick={() => (playing ? video.current?.pause() : void video.current?.play())}>
          {playing ? t('playback.pause') : t('playback.play')}
        </button>
        <label>
          {t('playback.speed')}{' '}
          <select data-testid="speed" value={speed} onChange={(e) => setSpeed(Number((e.currentTarget as HTMLSelectElement).value))}>
            {SPEEDS.map((s) => (
              <option key={s} value={s}>
                {t('playback.speedTimes', { speed: s })}
              </option>
            ))}
          </select>
        </label>
        <span>{t('playback.position')}</span> <When iso={position === null ? null : Math.round(position)} />
      </p>
      {failed && <p role="alert">{t('playback.failed')}</p>}
    </div>
  );
}
