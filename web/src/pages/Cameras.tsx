import { useEffect, useState } from 'preact/hooks';
import { isApiError, listCameras, type CameraPage } from '../api';
import { siteTypeName, type MessageKey } from '../i18n';
import { useI18n } from '../i18nContext';

const PAGE_SIZE = 50;
/** Live state is polled; the list is paged on the server. */
const REFRESH_MS = 5000;
const STATES = ['live', 'starting', 'stalled', 'backoff', 'stopped', 'refused'];

export function CamerasPage({ onSessionLost }: { onSessionLost: () => void }) {
  const { t, lang } = useI18n();
  const [offset, setOffset] = useState(0);
  const [page, setPage] = useState<CameraPage | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let stopped = false;
    const load = async () => {
      try {
        const next = await listCameras(offset, PAGE_SIZE);
        if (!stopped) {
          setPage(next);
          setError(null);
        }
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
  }, [offset, t]);

  const pages = page === null ? 1 : Math.max(1, Math.ceil(page.total / PAGE_SIZE));
  const stateName = (state: string) => t(STATES.includes(state) ? (`state.${state}` as MessageKey) : 'state.unknown');

  return (
    <section aria-labelledby="cameras-heading">
      <h2 id="cameras-heading">{t('cameras.heading')}</h2>
      {error !== null && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {page === null ? (
        <p>{t('cameras.loading')}</p>
      ) : page.items.length === 0 ? (
        <p>{t('cameras.empty')}</p>
      ) : (
        <table class="cameras">
          <thead>
            <tr>
              <th scope="col">{t('cameras.name')}</th>
              <th scope="col">{t('cameras.siteType')}</th>
              <th scope="col">{t('cameras.state')}</th>
            </tr>
          </thead>
          <tbody>
            {page.items.map((c) => (
              <tr key={c.id} data-camera-id={c.id}>
                <td data-user-text>{c.name}</td>
                <td>{siteTypeName(lang, c.siteType)}</td>
                <td class={`state state-${c.status.state}`} data-state={c.status.state}>
                  {stateName(c.status.state)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {page !== null && (
        <p class="pager">
          <span>{t('cameras.total', { total: page.total })}</span>
          <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE_SIZE))}>
            {t('cameras.previous')}
          </button>
          <span>{t('cameras.page', { page: Math.floor(offset / PAGE_SIZE) + 1, pages })}</span>
          <button type="button" disabled={offset + PAGE_SIZE >= page.total} onClick={() => setOffset(offset + PAGE_SIZE)}>
            {t('cameras.next')}
          </button>
        </p>
      )}
    </section>
  );
}
