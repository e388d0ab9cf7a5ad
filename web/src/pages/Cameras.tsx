import { useEffect, useRef, useState } from 'preact/hooks';
import { CAMERA_STATES } from '../../../src/api/contract.js';
import { isApiError, listCameras, startDemo, systemInfo, type CameraItem, type CameraListQuery } from '../api';
import { siteTypeName, type MessageKey } from '../i18n';
import { useI18n } from '../i18nContext';
import { visibleWindow } from '../virtualList';
import { SiteTypeSelect } from './pageKit';

/** Rows are fetched from the server in chunks as they scroll into view; only a window of them is in the DOM. */
const CHUNK = 100;
const ROW_PX = 36;
/** Live state and health are polled for the chunks in view. */
const REFRESH_MS = 5000;
const SEARCH_DELAY_MS = 250;

interface Filters {
  q: string;
  state: string;
  siteType: string;
}

export function CamerasPage({ onSessionLost }: { onSessionLost: () => void }) {
  const { t, lang } = useI18n();
  const [filters, setFilters] = useState<Filters>({ q: '', state: '', siteType: '' });
  const [query, setQuery] = useState<Filters>(filters);
  const [total, setTotal] = useState<number | null>(null);
  const [rows, setRows] = useState<Map<number, CameraItem[]>>(new Map());
  const [error, setError] = useState<string | null>(null);
  const [scroll, setScroll] = useState({ top: 0, height: 600 });
  const viewport = useRef<HTMLDivElement>(null);
  const [mode, setMode] = useState<string | null>(null);
  const [demoBusy, setDemoBusy] = useState(false);

  // An empty list in development mode offers the demo camera (a first look without a camera).
  useEffect(() => {
    if (total === 0 && mode === null)
      void systemInfo().then(
        (s) => setMode(s.mode),
        () => setMode('unknown'),
      );
  }, [total, mode]);
  const addDemo = async () => {
    setDemoBusy(true);
    try {
      await startDemo();
      setQuery({ ...query });
    } catch (err) {
      setError(t('cameras.demoFailed', { message: String(isApiError(err) ? err.message : err) }));
    } finally {
      setDemoBusy(false);
    }
  };

  // Typing waits a moment before the server is asked.
  useEffect(() => {
    const timer = setTimeout(() => setQuery(filters), SEARCH_DELAY_MS);
    return () => clearTimeout(timer);
  }, [filters]);

  const win = visibleWindow(scroll.top, scroll.height, ROW_PX, total ?? 0);
  const chunks: number[] = [];
  for (let c = Math.floor(win.first / CHUNK); c * CHUNK < Math.max(win.last, 1); c++) chunks.push(c);
  const chunkKey = chunks.join(',');

  useEffect(() => {
    setRows(new Map());
    setTotal(null);
    viewport.current?.scrollTo(0, 0);
  }, [query]);

  useEffect(() => {
    let stopped = false;
    const base: CameraListQuery = { q: query.q.trim(), state: query.state, siteType: query.siteType, limit: CHUNK };
    const load = async () => {
      try {
        const pages = await Promise.all(chunks.map((c) => listCameras({ ...base, offset: c * CHUNK })));
        if (stopped) return;
        setRows((old) => {
          const next = new Map(old);
          chunks.forEach((c, i) => next.set(c, pages[i]?.items ?? []));
          return next;
        });
        setTotal(pages[0]?.total ?? 0);
        setError(null);
      } catch (err) {
        if (stopped) return;
        if (isApiError(err) && err.status === 401) return onSessionLost();
        setError(
          t('cameras.loadFailed', {
            message: isApiError(err) && err.status === 0 ? t('error.network') : String(isApiError(err) ? err.message : err),
          }),
        );
      }
    };
    void load();
    const timer = setInterval(() => void load(), REFRESH_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [query, chunkKey, t]);

  const onScroll = () => {
    const el = viewport.current;
    if (el !== null) setScroll({ top: el.scrollTop, height: el.clientHeight });
  };
  useEffect(() => {
    onScroll();
    addEventListener('resize', onScroll);
    return () => removeEventListener('resize', onScroll);
  }, []);

  const stateName = (state: string) =>
    t((CAMERA_STATES as readonly string[]).includes(state) ? (`state.${state}` as MessageKey) : 'state.unknown');
  const set = (key: keyof Filters) => (e: Event) => setFilters({ ...filters, [key]: (e.currentTarget as HTMLInputElement).value });
  const shown: Array<{ index: number; camera: CameraItem | undefined }> = [];
  for (let i = win.first; i < win.last; i++) shown.push({ index: i, camera: rows.get(Math.floor(i / CHUNK))?.[i % CHUNK] });

  return (
    <section aria-labelledby="cameras-heading" class="cameras-page">
      <h2 id="cameras-heading">{t('cameras.heading')}</h2>
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          {t('cameras.search')}
          <input type="search" name="q" value={filters.q} onInput={set('q')} placeholder={t('cameras.searchHint')} />
        </label>
        <label>
          {t('cameras.state')}
          <select name="state" value={filters.state} onChange={set('state')}>
            <option value="">{t('cameras.any')}</option>
            {CAMERA_STATES.map((s) => (
              <option key={s} value={s}>
                {stateName(s)}
              </option>
            ))}
          </select>
        </label>
        <SiteTypeSelect
          name="siteType"
          value={filters.siteType}
          onChange={(siteType) => setFilters({ ...filters, siteType })}
          emptyLabel="cameras.any"
        />
        <span role="status" class="total">
          {total === null ? t('cameras.loading') : t('cameras.total', { total })}
        </span>
      </form>
      {error !== null && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {total === 0 ? (
        <div class="cameras-empty" data-mode={mode ?? undefined}>
          <p>{t('cameras.empty')}</p>
          {mode === 'development' && (
            <p>
              <button type="button" data-testid="demo-add" disabled={demoBusy} onClick={() => void addDemo()}>
                {t('cameras.demoAdd')}
              </button>{' '}
              <span class="hint">{t('cameras.demoHint')}</span>
            </p>
          )}
        </div>
      ) : (
        <div class="camera-table" role="table" aria-labelledby="cameras-heading" aria-rowcount={(total ?? 0) + 1}>
          <div role="rowgroup" class="camera-head">
            <div role="row" class="camera-row">
              {(['name', 'siteType', 'address', 'state', 'fps', 'bitrate', 'incidents', 'filing'] as const).map((col) => (
                <span role="columnheader" key={col}>
                  {t(`cameras.${col}`)}
                </span>
              ))}
            </div>
          </div>
          <div role="rowgroup" class="camera-viewport" ref={viewport} onScroll={onScroll} tabIndex={0} aria-label={t('cameras.heading')}>
            <div class="camera-spacer" style={{ height: `${(total ?? 0) * ROW_PX}px` }}>
              {shown.map(({ index, camera }) => (
                <div
                  role="row"
                  class="camera-row"
                  key={index}
                  aria-rowindex={index + 2}
                  data-row={index}
                  data-camera-id={camera?.id}
                  style={{ top: `${index * ROW_PX}px` }}
                >
                  {camera === undefined ? (
                    <span role="cell">{t('cameras.loading')}</span>
                  ) : (
                    <>
                      <span role="cell">
                        <span data-user-text>{camera.name}</span>
                        {camera.demo && (
                          <span class="badge badge-demo" data-demo>
                            {t('cameras.demo')}
                          </span>
                        )}
                      </span>
                      <span role="cell">{siteTypeName(lang, camera.siteType)}</span>
                      <span role="cell" data-user-text>
                        {camera.address ?? ''}
                      </span>
                      <span role="cell" class={`state state-${camera.status.state}`} data-state={camera.status.state}>
                        {stateName(camera.status.state)}
                      </span>
                      <span role="cell" data-user-text data-fps>
                        {camera.health.fps.toFixed(1)}
                      </span>
                      <span role="cell">{t('cameras.kbps', { kbps: Math.round(camera.health.bitrateBps / 1000) })}</span>
                      <span role="cell" data-user-text class={camera.health.openIncidents > 0 ? 'incidents-open' : ''}>
                        {camera.health.openIncidents}
                      </span>
                      <span role="cell" class={`filing filing-${camera.filing ?? 'none'}`} data-filing={camera.filing ?? 'none'}>
                        {t(`filing.${camera.filing ?? 'none'}`)}
                      </span>
                    </>
                  )}
                </div>
              ))}
            </div>
          </div>
        </div>
      )}
    </section>
  );
}
