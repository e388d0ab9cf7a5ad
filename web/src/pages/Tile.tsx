import mpegts from 'mpegts.js';
import { useEffect, useRef, useState } from 'preact/hooks';
import { cameraStreams, isApiError } from '../api';
import { useI18n } from '../i18nContext';
import { observe, retryDelayMs, startWatch } from '../tileHealth';

export interface TileCamera {
  id: string;
  name: string;
}

type TileState = { kind: 'connecting' } | { kind: 'playing' } | { kind: 'offline' } | { kind: 'refused'; message: string };

/**
 * One wall tile: the camera's shared tier over WS-FLV through mpegts.js. A player error
 * or a picture that stops advancing shows "offline"; the tile then asks the API for a
 * fresh play URL and tries again by itself, backing off up to 10 s.
 */
export function Tile({ index, camera, onSessionLost }: { index: number; camera: TileCamera | null; onSessionLost: () => void }) {
  const { t } = useI18n();
  const video = useRef<HTMLVideoElement>(null);
  const [state, setState] = useState<TileState>({ kind: 'connecting' });

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
    const connect = async () => {
      watch = startWatch(Date.now());
      try {
        const streams = await cameraStreams(camera.id);
        if (closed) return;
        const p = mpegts.createPlayer(
          { type: 'flv', isLive: true, url: streams.shared.wsFlv, hasAudio: false },
          // liveSync keeps latency low by playing slightly faster, not by jumping ahead.
          { enableWorker: false, enableStashBuffer: false, liveSync: true, liveSyncMaxLatency: 1.5, liveSyncTargetLatency: 0.8 },
        );
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
        if (isApiError(err) && err.status === 403) {
          closed = true;
          setState({ kind: 'refused', message: err.message });
          return;
        }
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
  }, [camera?.id]);

  return (
    <figure class={`tile tile-${state.kind}`} data-tile={index} data-state={camera === null ? 'empty' : state.kind}>
      <video ref={video} muted playsInline aria-label={t('wall.tile', { n: index + 1 })} />
      <figcaption>
        {camera === null ? (
          <span>{t('wall.noCamera')}</span>
        ) : (
          <>
            <span data-user-text>{camera.name}</span> <span class="tier">{t('tier.shared')}</span>
          </>
        )}
      </figcaption>
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
