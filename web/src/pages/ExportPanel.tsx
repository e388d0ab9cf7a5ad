import { useEffect, useState } from 'preact/hooks';
import type { AccessRequest } from '../../../src/domain/accessRequests.js';
import type { ExportJob } from '../../../src/domain/exports.js';
import { call, isApiError } from '../api';
import { useI18n } from '../i18nContext';
import { localInputValue, parseLocalInput } from '../playbackSync';
import { errorText, isForbidden, useLoad, When } from './pageKit';
import './pages.css';

/** A range of the timeline chosen for an export (wall-clock ms). */
export interface Selection {
  fromMs: number;
  toMs: number;
}

/** How often a running export's progress is asked for. */
const POLL_MS = 1000;

/**
 * Starts an export of the selected range under one of the user's own requests for the
 * camera. The console decides nothing: the API allows it (an approved export request
 * covering the camera and range, within its window) or refuses, and its refusal is shown.
 */
export function ExportPanel({
  cameraId,
  selection,
  onSelect,
  onSessionLost,
}: {
  cameraId: string;
  selection: Selection | null;
  onSelect: (s: Selection | null) => void;
  onSessionLost: () => void;
}) {
  const { t } = useI18n();
  const me = useLoad(() => call<{ username: string }>('GET', '/auth/me'), [], onSessionLost);
  const requests = useLoad(
    () =>
      call<{ items: AccessRequest[] }>('GET', '/access-requests').catch((err: unknown) =>
        isForbidden(err) ? { items: [] } : Promise.reject(err),
      ),
    [cameraId],
    onSessionLost,
  );
  const mine = (requests.data?.items ?? []).filter((r) => r.filedBy.username === me.data?.username && r.cameraIds.includes(cameraId));
  const [requestId, setRequestId] = useState('');
  const [job, setJob] = useState<ExportJob | null>(null);
  const [refusal, setRefusal] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // An approved export request is the likely choice; the user may pick any of theirs.
  const preferred = mine.find((r) => r.kind === 'export' && r.state === 'approved') ?? mine[0];
  const chosen = mine.some((r) => r.id === requestId) ? requestId : (preferred?.id ?? '');

  useEffect(() => {
    setJob(null);
    setRefusal(null);
  }, [cameraId]);
  // A queued or running export is followed until it ends.
  useEffect(() => {
    if (job === null || job.state === 'done' || job.state === 'failed') return;
    const timer = setTimeout(() => {
      call<ExportJob>('GET', `/exports/${encodeURIComponent(job.id)}`).then(setJob, (err: unknown) => {
        if (isApiError(err) && err.status === 401) onSessionLost();
        else setRefusal(errorText(t, err));
      });
    }, POLL_MS);
    return () => clearTimeout(timer);
  }, [job]);

  const edit = (end: 'fromMs' | 'toMs', value: string) => {
    const ms = parseLocalInput(value);
    if (ms === null) return;
    const base = selection ?? { fromMs: ms, toMs: ms };
    onSelect({ ...base, [end]: ms });
  };
  /** One end of the range, to the second. */
  const endField = (end: 'fromMs' | 'toMs', label: string, name: string) => (
    <label>
      {label}{' '}
      <input
        type="datetime-local"
        step={1}
        name={name}
        value={selection === null ? '' : localInputValue(selection[end])}
        onChange={(e) => edit(end, (e.currentTarget as HTMLInputElement).value)}
      />
    </label>
  );
  const start = async () => {
    if (selection === null) return;
    setBusy(true);
    setRefusal(null);
    try {
      const created = await call<ExportJob>('POST', '/exports', {
        requestId: chosen,
        cameraId,
        from: new Date(selection.fromMs).toISOString(),
        to: new Date(selection.toMs).toISOString(),
      });
      setJob(created);
    } catch (err) {
      if (isApiError(err) && err.status === 401) onSessionLost();
      else setRefusal(isApiError(err) && err.status !== 0 ? t('export.refused', { message: err.message }) : errorText(t, err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="export" data-testid="export" aria-labelledby="export-heading">
      <h3 id="export-heading">{t('export.heading')}</h3>
      <p>{t('export.hint')}</p>
      <p class="filters">
        {endField('fromMs', t('export.from'), 'export-from')} {endField('toMs', t('export.to'), 'export-to')}{' '}
        {mine.length === 0 ? (
          <span data-testid="export-no-request">{t('export.noRequest')}</span>
        ) : (
          <label>
            {t('export.request')}{' '}
            <select
              data-testid="export-request"
              value={chosen}
              onChange={(e) => setRequestId((e.currentTarget as HTMLSelectElement).value)}
            >
              {mine.map((r) => (
                <option key={r.id} value={r.id}>
                  {t('export.requestItem', { id: r.id, kind: t(`access.kind.${r.kind}`), state: t(`access.state.${r.state}`) })}
                </option>
              ))}
            </select>
          </label>
        )}{' '}
        <button
          type="button"
          data-testid="export-start"
          disabled={busy || selection === null || selection.toMs <= selection.fromMs || chosen === ''}
          onClick={() => void start()}
        >
          {t('export.start')}
        </button>
      </p>
      {refusal !== null && (
        <p class="error" role="alert" data-testid="export-refused">
          {refusal}
        </p>
      )}
      {job !== null && (
        <p role="status" data-testid="export-job" data-job-id={job.id} data-state={job.state}>
          {t(`export.state.${job.state}`, { progress: Math.round(job.progress * 100) })} <When iso={job.from} /> <When iso={job.to} />{' '}
          {job.state === 'done' && (
            <a href={`/api/v1/exports/${encodeURIComponent(job.id)}/clip`} download data-testid="export-download">
              {t('export.download')}
            </a>
          )}
          {job.error !== null && <span data-user-text>{job.error}</span>}
        </p>
      )}
    </section>
  );
}
