import mpegts from 'mpegts.js';
import { useEffect, useRef, useState } from 'preact/hooks';
import { cameraStreams, isApiError } from '../api';
import { useI18n } from '../i18nContext';
import { LIVE_PLAYER_CONFIG } from '../liveConfig';
import { observe, retryDelayMs, startWatch } from '../tileHealth';

export interface TileCamera {
  id: string;
  name: string;
}

export type Tier = 'shared' | 'raw';

type TileState = { kind: 'connecting' } | { kind: 'playing' } | { kind: 'offline' } | { kind: 'refused'; message: string };

export interface TileProps {
  index: number;
  camera: TileCamera | null;
  tier: Tier;
  /** Who is watching: the raw tier's watermark names them. */
  viewer: string;
  big: boolean;
  selected: boolean;
  onSessionLost: () => void;
  onSelect: () => void;
  onDropCamera: (cameraId: string) => void;
  onKey: (e: KeyboardEvent) => void;
  onTier: (tier: Tier) => void;
}

/** The drag payload of a camera from the wall's side list. */
export const CAMERA_DRAG_TYPE = 'application/x-psvgw-camera';

/**
 * One wall tile: a tier of one camera over WS-FLV through mpegts.js. A player error or a
 * picture that stops advancing shows "offline"; the tile then asks the API for a fresh
 * play URL and tries again by itself, backing off up to 10 s. The raw tier plays only
 * when the API hands out its URL (an approved request), under a watermark naming the viewer.
 */
export function Tile(props: TileProps) {
  const { index, camera, tier, viewer, onSessionLost } = props;
  const { t } = useI18n();
  const video = useRef<HTMLVideoElement>(null);
  const figure = useRef<HTMLElement>(null);
  const [state, setState] = useState<TileState>({ kind: 'connecting' });
  const [dragOver, setDragOver] = useState(false);

  useEffect(() => {
    const el = video.current;
    if (camera === null || el === null) return;
    let player: mpegts.Player | null = null;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let attempt = 0;
    let watch = startWatch(Date.now());
    let closed = false;

    const drop = () => {
      if (player !== null) {
        player.destroy();
        player = null;
      }
    };
    const fail = () => {
      if (closed || retry !== undefined) return;
      drop();
      setState({ kind: 'offline' });
      retry = setTimeout(() => {
        retry = undefined;
        void connect();
      }, retryDelayMs(attempt));
      attempt += 1;
    };
    const refuse = (message: string) => {
      closed = true;
      drop();
      setState({ kind: 'refused', message });
    };
    const connect = async () => {
      watch = startWatch(Date.now());
      try {
        const streams = await cameraStreams(camera.id);
        if (closed) return;
        const urls = streams[tier];
        if ('refused' in urls) return refuse(urls.refused);
        const p = mpegts.createPlayer({ type: 'flv', isLive: true, url: urls.wsFlv, hasAudio: false }, LIVE_PLAYER_CONFIG);
        p.on(mpegts.Events.ERROR, fail);
        p.attachMediaElement(el);
        p.load();
        player = p;
        void Promise.resolve(p.play()).catch(() => undefined);
      } catch (err) {
        if (isApiError(err) && err.status === 401) {
          closed = true;
          onSessionLost();
          return;
        }
        if (isApiError(err) && err.status === 403) return refuse(err.message);
        fail();
      }
    };
    const tick = setInterval(() => {
      if (player === null) return;
      const seen = observe(watch, el.currentTime, Date.now());
      if (seen.watch.lastAdvanceAt !== watch.lastAdvanceAt && el.currentTime > 0) {
        attempt = 0;
        setState({ kind: 'playing' });
      }
      watch = seen.watch;
      if (seen.stalled) fail();
    }, 500);

    setState({ kind: 'connecting' });
    void connect();
    return () => {
      closed = true;
      clearInterval(tick);
      clearTimeout(retry);
      drop();
    };
  }, [camera?.id, tier]);

  const fullScreen = () => void figure.current?.requestFullscreen().catch(() => undefined);
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.target !== e.currentTarget) return;
    if (e.key === 'f' || e.key === 'F') {
      e.preventDefault();
      fullScreen();
    } else props.onKey(e);
  };

  return (
    <figure
      ref={figure}
      class={`tile tile-${state.kind}${props.big ? ' tile-big' : ''}${props.selected ? ' tile-selected' : ''}${dragOver ? ' tile-drop' : ''}`}
      data-tile={index}
      data-state={camera === null ? 'empty' : state.kind}
      data-tier={tier}
      tabIndex={props.selected ? 0 : -1}
      aria-label={t('wall.tile', { n: index + 1 })}
      aria-current={props.selected ? 'true' : undefined}
      onFocus={props.onSelect}
      onClick={props.onSelect}
      onKeyDown={onKeyDown}
      onDragOver={(e) => {
        if (!e.dataTransfer?.types.includes(CAMERA_DRAG_TYPE)) return;
        e.preventDefault();
        setDragOver(true);
      }}
      onDragLeave={() => setDragOver(false)}
      onDrop={(e) => {
        e.preventDefault();
        setDragOver(false);
        const id = e.dataTransfer?.getData(CAMERA_DRAG_TYPE);
        if (id) props.onDropCamera(id);
      }}
    >
      <video ref={video} muted playsInline />
      <figcaption>
        {camera === null ? (
          <span>{t('wall.noCamera')}</span>
        ) : (
          <>
            <span data-user-text>{camera.name}</span>{' '}
            <button
              type="button"
              class={`tier tier-${tier}`}
              aria-pressed={tier === 'raw'}
              title={t('wall.tierSwitch')}
              onClick={() => props.onTier(tier === 'raw' ? 'shared' : 'raw')}
            >
              {t(tier === 'raw' ? 'tier.raw' : 'tier.shared')}
            </button>
          </>
        )}
        <button type="button" class="full" title={t('wall.fullScreenTile')} onClick={fullScreen}>
          {t('wall.fullScreen')}
        </button>
      </figcaption>
      {camera !== null && tier === 'raw' && state.kind === 'playing' && (
        <div class="watermark" data-watermark>
          {Array.from({ length: 6 }, (_, i) => (
            <span key={i} data-user-text>
              {viewer}
            </span>
          ))}
        </div>
      )}
      {camera !== null && state.kind !== 'playing' && (
        <p class="overlay" role="status">
          {state.kind === 'connecting'
            ? t('tile.connecting')
            : state.kind === 'offline'
              ? t('tile.offline')
              : t('tile.refused', { message: state.message })}
        </p>
      )}
    </figure>
  );
}
