import { useEffect, useRef, useState } from 'preact/hooks';
import { call } from '../api';
import { useI18n } from '../i18nContext';
import { correction, frameSeconds } from '../playbackSync';
import { Alert, useLoad, When, type CameraChoice } from './pageKit';
import './pages.css';

export interface Segment {
  seq: number;
  start: string;
  end: string;
}
export interface PlayRange {
  segments: Segment[];
  playback: { hls: string; expiresAt: string } | { refused: string };
}

const SPEEDS = [0.5, 1, 2, 4];
/** How often followers are brought back onto the clock and the shown positions refreshed. */
const SYNC_MS = 200;

/** A playing camera's video and the wall-clock time its playlist starts at. */
interface Source {
  el: HTMLVideoElement;
  baseMs: number;
}
type Register = (cameraId: string, source: Source | null) => void;

/**
 * Plays up to four cameras from `startMs` on one clock: the first camera that plays is the
 * clock, the others follow it by wall-clock time. Each camera's range is asked of the API
 * separately, so the policy decides per camera (a refused one shows the refusal in its tile).
 */
export function SyncPlayer({
  cameras,
  startMs,
  toMs,
  onSessionLost,
}: {
  cameras: CameraChoice[];
  startMs: number;
  toMs: number;
  onSessionLost: () => void;
}) {
  const { t } = useI18n();
  const sources = useRef(new Map<string, Source>());
  const [clockId, setClockId] = useState<string | null>(null);
  const [playing, setPlaying] = useState(false);
  const [speed, setSpeed] = useState(1);
  const [positions, setPositions] = useState<Record<string, number | null>>({});
  const [outside, setOutside] = useState<Record<string, boolean>>({});
  const mediaTimes = useRef<number[]>([]);
  const order = cameras.map((c) => c.id).join(',');

  const clock = (): Source | null => {
    for (const c of cameras) {
      const s = sources.current.get(c.id);
      if (s !== undefined) return s;
    }
    return null;
  };
  /** Brings every follower onto the clock and refreshes the shown positions. */
  const sync = () => {
    const master = clock();
    if (master === null) return;
    const el = master.el;
    const clockMs = master.baseMs + el.currentTime * 1000;
    const shown: Record<string, number | null> = {};
    const away: Record<string, boolean> = {};
    for (const [id, f] of sources.current) {
      shown[id] = f.baseMs + f.el.currentTime * 1000;
      if (f === master || f.el.readyState < 1 || f.el.seeking) continue;
      const c = correction(
        { baseMs: f.baseMs, currentTime: f.el.currentTime, durationS: f.el.duration },
        clockMs,
        el.playbackRate,
        el.paused,
      );
      away[id] = c.kind === 'outside';
      if (c.kind === 'outside') {
        if (!f.el.paused) f.el.pause();
        continue;
      }
      // A seek lands at the clock's rate too: left at its old rate (1× after a speed change) a follower
      // falls behind again at once and seeks on and on.
      if (c.kind === 'seek') {
        f.el.currentTime = c.currentTime;
        f.el.playbackRate = el.playbackRate;
      } else f.el.playbackRate = c.playbackRate;
      if (el.paused && !f.el.paused) f.el.pause();
      if (!el.paused && f.el.paused) void f.el.play().catch(() => undefined);
    }
    setPositions(shown);
    setOutside(away);
    setPlaying(!el.paused);
  };
  const register: Register = (cameraId, source) => {
    if (source === null) sources.current.delete(cameraId);
    else sources.current.set(cameraId, source);
    const master = clock();
    setClockId(master === null ? null : ([...sources.current].find(([, s]) => s === master)?.[0] ?? null));
  };

  useEffect(() => {
    const timer = setInterval(sync, SYNC_MS);
    return () => clearInterval(timer);
  }, [order]);
  // The clock's frame length, from the media times of the frames it presents.
  useEffect(() => {
    const el = clockId === null ? undefined : sources.current.get(clockId)?.el;
    if (el === undefined) return;
    el.defaultPlaybackRate = speed;
    el.playbackRate = speed;
    let handle = 0;
    let stopped = false;
    const seen = (_now: number, meta: VideoFrameCallbackMetadata) => {
      if (stopped) return;
      mediaTimes.current = [...mediaTimes.current.slice(-15), meta.mediaTime];
      handle = el.requestVideoFrameCallback(seen);
    };
    handle = el.requestVideoFrameCallback(seen);
    return () => {
      stopped = true;
      el.cancelVideoFrameCallback(handle);
    };
  }, [clockId]);
  useEffect(() => {
    const el = clock()?.el;
    if (el === undefined) return;
    el.defaultPlaybackRate = speed;
    el.playbackRate = speed;
  }, [speed]);

  const master = clockId === null ? null : (sources.current.get(clockId) ?? null);
  const toggle = () => {
    const el = clock()?.el;
    if (el === undefined) return;
    if (el.paused) void el.play().catch(() => undefined);
    else el.pause();
    setPlaying(!el.paused);
    sync();
  };
  /** One frame on (or back): the clock pauses there and the followers show the same instant. */
  const step = (direction: 1 | -1) => {
    const el = clock()?.el;
    if (el === undefined) return;
    el.pause();
    el.currentTime = Math.max(0, el.currentTime + direction * frameSeconds(mediaTimes.current));
    sync();
  };
  const position = clockId === null ? null : (positions[clockId] ?? null);

  return (
    <div class="sync" data-testid="playback-view" data-cameras={cameras.length} data-clock={clockId ?? ''}>
      <div class={cameras.length > 1 ? 'sync-grid' : 'sync-single'}>
        {cameras.map((c) => (
          <SyncTile
            key={c.id}
            camera={c}
            startMs={startMs}
            toMs={toMs}
            onSessionLost={onSessionLost}
            register={register}
            position={positions[c.id] ?? null}
            outside={outside[c.id] === true}
          />
        ))}
      </div>
      {master !== null && (
        <div
          class="controls"
          role="group"
          aria-label={t('playback.controls')}
          data-position={position === null ? '' : Math.round(position)}
        >
          <button type="button" data-testid="step-back" onClick={() => step(-1)}>
            {t('playback.stepBack')}
          </button>
          <button type="button" data-testid="play-pause" onClick={toggle}>
            {playing ? t('playback.pause') : t('playback.play')}
          </button>
          <button type="button" data-testid="step-forward" onClick={() => step(1)}>
            {t('playback.stepForward')}
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
        </div>
      )}
    </div>
  );
}

/** One camera of the view: asks the API for the range from `startMs`, then plays it (or shows the refusal). */
function SyncTile({
  camera,
  startMs,
  toMs,
  onSessionLost,
  register,
  position,
  outside,
}: {
  camera: CameraChoice;
  startMs: number;
  toMs: number;
  onSessionLost: () => void;
  register: Register;
  position: number | null;
  outside: boolean;
}) {
  const { t } = useI18n();
  const range = useLoad(
    () => call<PlayRange>('GET', `/cameras/${encodeURIComponent(camera.id)}/recordings?from=${startMs}&to=${Math.max(toMs, startMs + 1)}`),
    [camera.id, startMs],
    onSessionLost,
  );
  const body = (() => {
    if (range.error !== null) return <Alert text={range.error} />;
    if (range.data === null) return null;
    if ('refused' in range.data.playback) {
      return (
        <p class="error" role="alert" data-testid="playback-refused">
          {t('playback.refused', { message: range.data.playback.refused })}
        </p>
      );
    }
    return (
      <Video
        cameraId={camera.id}
        hls={range.data.playback.hls}
        startMs={startMs}
        segments={range.data.segments}
        register={register}
        position={position}
        outside={outside}
      />
    );
  })();
  return (
    <figure class="sync-tile" data-camera-id={camera.id}>
      <figcaption data-user-text>{camera.name}</figcaption>
      {body}
    </figure>
  );
}

/**
 * The governed HLS from `startMs`: the playlist begins with the segment holding that time, so
 * the video seeks by the distance into it. Positions are wall-clock times.
 */
function Video({
  cameraId,
  hls,
  startMs,
  segments,
  register,
  position,
  outside,
}: {
  cameraId: string;
  hls: string;
  startMs: number;
  segments: Segment[];
  register: Register;
  position: number | null;
  outside: boolean;
}) {
  const { t } = useI18n();
  const video = useRef<HTMLVideoElement>(null);
  const [failed, setFailed] = useState(false);
  const first = segments.find((s) => Date.parse(s.end) > startMs) ?? null;
  const baseMs = first === null ? startMs : Date.parse(first.start);

  useEffect(() => {
    const el = video.current;
    if (el === null || first === null) return;
    setFailed(false);
    const onMeta = () => {
      el.currentTime = Math.max(0, (startMs - baseMs) / 1000);
      void el.play().catch(() => undefined);
    };
    const onError = () => setFailed(true);
    el.addEventListener('loadedmetadata', onMeta, { once: true });
    el.addEventListener('error', onError);
    el.src = hls;
    register(cameraId, { el, baseMs });
    return () => {
      register(cameraId, null);
      el.removeEventListener('loadedmetadata', onMeta);
      el.removeEventListener('error', onError);
      el.removeAttribute('src');
      el.load();
    };
  }, [hls, startMs]);

  if (first === null) return <p role="alert">{t('playback.nothingAfter')}</p>;
  return (
    <div
      class="player"
      data-testid="player"
      data-camera-id={cameraId}
      data-start={startMs}
      data-base={baseMs}
      data-position={position === null ? '' : Math.round(position)}
      data-outside={outside}
    >
      <video ref={video} muted playsInline data-testid="playback-video" />
      {outside && <p class="overlay">{t('playback.outside')}</p>}
      {failed && <p role="alert">{t('playback.failed')}</p>}
    </div>
  );
}
