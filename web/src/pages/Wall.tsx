import { useEffect, useRef, useState } from 'preact/hooks';
import { call, isApiError, listCameras, savedWalls, saveWall, type CameraItem, type SavedWall } from '../api';
import { useI18n } from '../i18nContext';
import { MAX_TILES, WALL_LAYOUTS, neighbour, wallGeometry, type WallLayoutSize } from '../wallLayout';
import { CAMERA_DRAG_TYPE, Tile, type Tier } from './Tile';

/** The side list shows the first matches of its search, asked of the server. */
const SIDE_LIMIT = 50;
const DEFAULT_WALL = 'default';

interface TileSlot {
  camera: { id: string; name: string } | null;
  tier: Tier;
}

const emptySlots = (): TileSlot[] => Array.from({ length: MAX_TILES }, () => ({ camera: null, tier: 'shared' }));

export function WallPage({ onSessionLost }: { onSessionLost: () => void }) {
  const { t } = useI18n();
  const [layout, setLayout] = useState<WallLayoutSize>(4);
  const [slots, setSlots] = useState<TileSlot[]>(emptySlots);
  const [selected, setSelected] = useState(0);
  const [search, setSearch] = useState('');
  const [choices, setChoices] = useState<CameraItem[]>([]);
  const [viewer, setViewer] = useState('');
  const [notice, setNotice] = useState<string | null>(null);
  const wall = useRef<HTMLDivElement>(null);

  const lost = (err: unknown) => {
    if (isApiError(err) && err.status === 401) onSessionLost();
  };

  // Who is watching (for the raw tier's watermark), and the wall this user saved last.
  useEffect(() => {
    call<{ username: string; displayName?: string | null }>('GET', '/auth/me').then((me) => setViewer(me.username), lost);
    savedWalls().then((saved) => {
      const mine = saved.items.find((w) => w.name === DEFAULT_WALL);
      if (mine !== undefined) void restore(mine);
    }, lost);
  }, []);

  useEffect(() => {
    const timer = setTimeout(() => {
      listCameras({ q: search.trim(), limit: SIDE_LIMIT }).then((page) => setChoices(page.items), lost);
    }, 250);
    return () => clearTimeout(timer);
  }, [search]);

  /** A saved wall names camera IDs; their names come from the API (a removed camera leaves its tile empty). */
  const restore = async (saved: SavedWall) => {
    const next = emptySlots();
    await Promise.all(
      saved.tiles.map(async (id, i) => {
        if (id === null || i >= MAX_TILES) return;
        const camera = await call<CameraItem>('GET', `/cameras/${encodeURIComponent(id)}`).catch(() => null);
        if (camera !== null) next[i] = { camera: { id: camera.id, name: camera.name }, tier: 'shared' };
      }),
    );
    setLayout(saved.layout);
    setSlots(next);
  };

  const put = (tile: number, camera: TileSlot['camera']) =>
    setSlots((old) => old.map((s, i) => (i === tile ? { camera, tier: camera?.id === s.camera?.id ? s.tier : 'shared' } : s)));
  const setTier = (tile: number, tier: Tier) => setSlots((old) => old.map((s, i) => (i === tile ? { ...s, tier } : s)));
  const byId = (id: string) => {
    const c = choices.find((x) => x.id === id);
    return c === undefined ? null : { id: c.id, name: c.name };
  };
  const focusTile = (i: number) => {
    setSelected(i);
    wall.current?.querySelector<HTMLElement>(`[data-tile="${i}"]`)?.focus();
  };
  const onTileKey = (i: number) => (e: KeyboardEvent) => {
    if (e.key === 'ArrowLeft' || e.key === 'ArrowRight' || e.key === 'ArrowUp' || e.key === 'ArrowDown') {
      e.preventDefault();
      focusTile(neighbour(layout, i, e.key));
    } else if (e.key === 'Delete' || e.key === 'Backspace') {
      e.preventDefault();
      put(i, null);
    }
  };
  const save = async () => {
    try {
      await saveWall({ name: DEFAULT_WALL, layout, tiles: slots.slice(0, layout).map((s) => s.camera?.id ?? null) });
      setNotice(t('wall.saved'));
    } catch (err) {
      lost(err);
      setNotice(t('wall.saveFailed', { message: isApiError(err) ? err.message : String(err) }));
    }
  };
  const chooseLayout = (n: WallLayoutSize) => {
    setLayout(n);
    if (selected >= n) setSelected(0);
  };

  const { columns } = wallGeometry(layout);

  return (
    <section aria-labelledby="wall-heading" class="wall-page">
      <div class="wall-tools">
        <h2 id="wall-heading">{t('wall.heading')}</h2>
        <fieldset class="layouts">
          <legend>{t('wall.layout')}</legend>
          {WALL_LAYOUTS.map((n) => (
            <button key={n} type="button" aria-pressed={layout === n} data-layout={n} onClick={() => chooseLayout(n)}>
              {t('wall.layoutTiles', { n })}
            </button>
          ))}
        </fieldset>
        <button type="button" data-wall-fullscreen onClick={() => void wall.current?.requestFullscreen().catch(() => undefined)}>
          {t('wall.fullScreenWall')}
        </button>
        <button type="button" data-wall-save onClick={() => void save()}>
          {t('wall.save')}
        </button>
        {notice !== null && (
          <span role="status" class="notice">
            {notice}
          </span>
        )}
      </div>
      <div class="wall-body">
        <aside class="wall-side" aria-labelledby="wall-side-heading">
          <h3 id="wall-side-heading">{t('wall.cameras')}</h3>
          <label>
            {t('cameras.search')}
            <input type="search" value={search} onInput={(e) => setSearch(e.currentTarget.value)} placeholder={t('cameras.searchHint')} />
          </label>
          <p class="hint">{t('wall.dragHint')}</p>
          <ul class="wall-choices">
            {choices.map((c) => (
              <li key={c.id}>
                <button
                  type="button"
                  draggable
                  data-choice={c.id}
                  class={`choice state-${c.status.state}`}
                  title={t('wall.putOnTile', { n: selected + 1 })}
                  onDragStart={(e) => {
                    e.dataTransfer?.setData(CAMERA_DRAG_TYPE, c.id);
                    if (e.dataTransfer) e.dataTransfer.effectAllowed = 'copy';
                  }}
                  onClick={() => {
                    put(selected, { id: c.id, name: c.name });
                    setSelected((selected + 1) % layout);
                  }}
                >
                  <span data-user-text>{c.name}</span>
                </button>
              </li>
            ))}
          </ul>
        </aside>
        <div ref={wall} class={`wall cols-${columns} layout-${layout}`} role="group" aria-label={t('wall.heading')}>
          {slots.slice(0, layout).map((slot, i) => (
            <Tile
              key={i}
              index={i}
              camera={slot.camera}
              tier={slot.tier}
              viewer={viewer}
              big={i === 0 && wallGeometry(layout).bigSpan > 1}
              selected={selected === i}
              onSessionLost={onSessionLost}
              onSelect={() => setSelected(i)}
              onDropCamera={(id) => put(i, byId(id))}
              onKey={onTileKey(i)}
              onTier={(tier) => setTier(i, tier)}
            />
          ))}
        </div>
      </div>
    </section>
  );
}
