import mpegts from 'mpegts.js';
import { useEffect, useRef, useState } from 'preact/hooks';
import {
  ACCESS_DOCUMENT_FIELDS,
  ACCESS_REQUEST_KINDS,
  type AccessDocumentField,
  type AccessRequestKind,
  type AccessStaff,
} from '../../../src/domain/accessRequests.js';
import { call, cameraStreams, isApiError } from '../api';
import type { MessageKey } from '../i18n';
import { useI18n } from '../i18nContext';
import { Alert, CameraSelect, cameraChoices, errorText, useLoad, When } from './pageKit';
import './pages.css';

interface Requirement {
  field: string;
  article: string;
}
/** GET /access-requests/requirements: what filing asks of this user under the profile (the API checks it again). */
interface Requirements {
  profile: string;
  staff: { count: number; article: string };
  documents: { all: Requirement[]; anyOf: Requirement[] };
}
interface AccessRequestView {
  id: string;
  kind: AccessRequestKind;
  cameraIds: string[];
  from: string;
  to: string;
  state: string;
  filedBy: { username: string };
  validUntil: string | null;
}

const HOUR_MS = 3600_000;
const emptyStaff = (): AccessStaff => ({ name: '', unit: '', credentialNo: '' });
const filled = (s: AccessStaff) => s.name.trim() !== '' && s.unit.trim() !== '' && s.credentialNo.trim() !== '';
/** `documents.workCertificate` → `workCertificate`. */
const docField = (field: string) => field.replace(/^documents\./, '') as AccessDocumentField;
/** A datetime-local input's value for a time (local time, minutes). */
const localInput = (ms: number) => new Date(ms - new Date(ms).getTimezoneOffset() * 60_000).toISOString().slice(0, 16);

/** File an access request, decide others', see one's own; play the raw tier an approved request allows. */
export function AccessPage({ onSessionLost }: { onSessionLost: () => void }) {
  const { t } = useI18n();
  const cameras = useLoad(cameraChoices, [], onSessionLost);
  const requests = useLoad(() => call<{ items: AccessRequestView[] }>('GET', '/access-requests'), [], onSessionLost);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const decide = async (id: string, verb: 'approve' | 'reject') => {
    try {
      await call('POST', `/access-requests/${encodeURIComponent(id)}/${verb}`, { reason: t(`access.${verb}Reason`) });
      setError(null);
      setNotice(t(verb === 'approve' ? 'access.approved' : 'access.rejected'));
      requests.reload();
    } catch (err) {
      if (isApiError(err) && err.status === 401) return onSessionLost();
      setError(errorText(t, err));
    }
  };

  return (
    <section aria-labelledby="access-heading" class="page">
      <h2 id="access-heading">{t('access.heading')}</h2>
      <Alert text={cameras.error ?? requests.error ?? error} />
      {notice !== null && <p role="status">{notice}</p>}
      <RequestForm
        cameras={cameras.data ?? []}
        onSessionLost={onSessionLost}
        onFiled={() => {
          setNotice(t('access.filed'));
          requests.reload();
        }}
      />
      <h3>{t('access.requests')}</h3>
      {(requests.data?.items.length ?? 0) === 0 ? (
        <p>{t('access.noRequests')}</p>
      ) : (
        <table data-testid="requests">
          <thead>
            <tr>
              <th scope="col">{t('access.kind')}</th>
              <th scope="col">{t('access.filedBy')}</th>
              <th scope="col">{t('access.state')}</th>
              <th scope="col">{t('access.validUntil')}</th>
              <th scope="col">{t('access.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {requests.data?.items.map((r) => (
              <tr key={r.id} data-request-id={r.id} data-state={r.state}>
                <td>{t(`access.kind.${r.kind}`)}</td>
                <td data-user-text>{r.filedBy.username}</td>
                <td>{t(`access.state.${r.state}` as MessageKey)}</td>
                <td>
                  <When iso={r.validUntil} />
                </td>
                <td>
                  {r.state === 'pending' && (
                    <>
                      <button type="button" data-action="approve" onClick={() => void decide(r.id, 'approve')}>
                        {t('access.approve')}
                      </button>{' '}
                      <button type="button" data-action="reject" onClick={() => void decide(r.id, 'reject')}>
                        {t('access.reject')}
                      </button>
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <RawView cameras={cameras.data ?? []} onSessionLost={onSessionLost} />
    </section>
  );
}

function RequestForm({
  cameras,
  onFiled,
  onSessionLost,
}: {
  cameras: Array<{ id: string; name: string }>;
  onFiled: () => void;
  onSessionLost: () => void;
}) {
  const { t } = useI18n();
  const [kind, setKind] = useState<AccessRequestKind>('view_live_raw');
  const [cameraId, setCameraId] = useState('');
  const [from, setFrom] = useState(() => localInput(Date.now() - HOUR_MS));
  const [to, setTo] = useState(() => localInput(Date.now() + HOUR_MS));
  const [purpose, setPurpose] = useState('');
  const [destination, setDestination] = useState('');
  const [staff, setStaff] = useState<AccessStaff[]>([emptyStaff(), emptyStaff()]);
  const [documents, setDocuments] = useState<Partial<Record<AccessDocumentField, string>>>({});
  const [error, setError] = useState<string | null>(null);
  const needs = useLoad(() => call<Requirements>('GET', `/access-requests/requirements?kind=${kind}`), [kind], onSessionLost);

  const has = (field: AccessDocumentField) => (documents[field] ?? '').trim() !== '';
  const docName = (field: string) => t(`access.doc.${docField(field)}` as MessageKey);
  // What the profile asks for and the form lacks, named before submitting (filing checks it again).
  const missing: string[] = [];
  if (cameraId === '') missing.push(t('access.missingCamera'));
  if (purpose.trim() === '') missing.push(t('access.purpose'));
  if (destination.trim() === '') missing.push(t('access.destination'));
  if (needs.data !== null) {
    const { count, article } = needs.data.staff;
    if (staff.filter(filled).length < count) missing.push(t('access.missingStaff', { count, article }));
    for (const d of needs.data.documents.all)
      if (!has(docField(d.field))) missing.push(t('access.missingDoc', { doc: docName(d.field), article: d.article }));
    const anyOf = needs.data.documents.anyOf;
    if (anyOf.length > 0 && !anyOf.some((d) => has(docField(d.field)))) {
      missing.push(t('access.missingAnyOf', { docs: anyOf.map((d) => docName(d.field)).join(' / '), article: anyOf[0]?.article ?? '' }));
    }
  }

  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      await call('POST', '/access-requests', {
        kind,
        cameraIds: [cameraId],
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
        purpose,
        destination,
        staff: staff.filter(filled),
        documents: Object.fromEntries(Object.entries(documents).filter(([, v]) => (v ?? '').trim() !== '')),
      });
      setError(null);
      onFiled();
    } catch (err) {
      if (isApiError(err) && err.status === 401) return onSessionLost();
      setError(errorText(t, err));
    }
  };
  const setStaffField = (i: number, field: keyof AccessStaff, value: string) =>
    setStaff(staff.map((s, j) => (j === i ? { ...s, [field]: value } : s)));

  return (
    <form class="request-form" data-testid="request-form" onSubmit={(e) => void submit(e)}>
      <h3>{t('access.file')}</h3>
      <Alert text={needs.error ?? error} />
      <label>
        {t('access.kind')}{' '}
        <select name="kind" value={kind} onChange={(e) => setKind((e.currentTarget as HTMLSelectElement).value as AccessRequestKind)}>
          {ACCESS_REQUEST_KINDS.map((k) => (
            <option key={k} value={k}>
              {t(`access.kind.${k}`)}
            </option>
          ))}
        </select>
      </label>
      <CameraSelect cameras={cameras} value={cameraId} onChange={setCameraId} testId="request-camera" />
      <label>
        {t('access.from')}{' '}
        <input type="datetime-local" name="from" value={from} onInput={(e) => setFrom((e.currentTarget as HTMLInputElement).value)} />
      </label>
      <label>
        {t('access.to')}{' '}
        <input type="datetime-local" name="to" value={to} onInput={(e) => setTo((e.currentTarget as HTMLInputElement).value)} />
      </label>
      <label>
        {t('access.purpose')}{' '}
        <input name="purpose" value={purpose} onInput={(e) => setPurpose((e.currentTarget as HTMLInputElement).value)} />
      </label>
      <label>
        {t('access.destination')}{' '}
        <input name="destination" value={destination} onInput={(e) => setDestination((e.currentTarget as HTMLInputElement).value)} />
      </label>
      <fieldset>
        <legend>{t('access.staff')}</legend>
        {staff.map((s, i) => (
          <p key={i} class="staff">
            {(['name', 'unit', 'credentialNo'] as const).map((f) => (
              <label key={f}>
                {t(`access.staff.${f}`)}{' '}
                <input
                  name={`staff-${i}-${f}`}
                  value={s[f]}
                  onInput={(e) => setStaffField(i, f, (e.currentTarget as HTMLInputElement).value)}
                />
              </label>
            ))}
          </p>
        ))}
        <button type="button" onClick={() => setStaff([...staff, emptyStaff()])}>
          {t('access.addStaff')}
        </button>
      </fieldset>
      <fieldset>
        <legend>{t('access.documents')}</legend>
        {ACCESS_DOCUMENT_FIELDS.map((f) => (
          <label key={f}>
            {t(`access.doc.${f}`)}{' '}
            <input
              name={`doc-${f}`}
              value={documents[f] ?? ''}
              onInput={(e) => setDocuments({ ...documents, [f]: (e.currentTarget as HTMLInputElement).value })}
            />
          </label>
        ))}
      </fieldset>
      {missing.length > 0 && (
        <div role="status" data-testid="missing">
          <p>{t('access.missingHeading')}</p>
          <ul>
            {missing.map((m) => (
              <li key={m}>{m}</li>
            ))}
          </ul>
        </div>
      )}
      <button type="submit" disabled={missing.length > 0 || needs.data === null}>
        {t('access.submit')}
      </button>
    </form>
  );
}

type RawState = { kind: 'idle' } | { kind: 'playing' } | { kind: 'refused'; message: string };

/** The raw tier of a camera, as the API hands it out: refused without an approved request; watermarked with the viewer. */
function RawView({ cameras, onSessionLost }: { cameras: Array<{ id: string; name: string }>; onSessionLost: () => void }) {
  const { t } = useI18n();
  const [cameraId, setCameraId] = useState('');
  const [state, setState] = useState<RawState>({ kind: 'idle' });
  const [viewer, setViewer] = useState('');
  const [run, setRun] = useState(0);
  const video = useRef<HTMLVideoElement>(null);

  useEffect(() => {
    const el = video.current;
    if (run === 0 || el === null || cameraId === '') return;
    let player: mpegts.Player | null = null;
    let closed = false;
    void (async () => {
      try {
        const [streams, me] = await Promise.all([cameraStreams(cameraId), call<{ username: string }>('GET', '/auth/me')]);
        if (closed) return;
        if ('refused' in streams.raw) return setState({ kind: 'refused', message: streams.raw.refused });
        setViewer(me.username);
        player = mpegts.createPlayer(
          { type: 'flv', isLive: true, url: streams.raw.wsFlv, hasAudio: false },
          { enableWorker: false, liveSync: true },
        );
        player.attachMediaElement(el);
        player.load();
        void Promise.resolve(player.play()).catch(() => undefined);
        setState({ kind: 'playing' });
      } catch (err) {
        if (isApiError(err) && err.status === 401) return onSessionLost();
        setState({ kind: 'refused', message: isApiError(err) ? err.message : String(err) });
      }
    })();
    return () => {
      closed = true;
      player?.destroy();
    };
  }, [run]);

  return (
    <div class="raw-view" data-testid="raw-view" data-state={state.kind}>
      <h3>{t('access.rawHeading')}</h3>
      <CameraSelect cameras={cameras} value={cameraId} onChange={setCameraId} testId="raw-camera" />{' '}
      <button type="button" data-testid="raw-play" disabled={cameraId === ''} onClick={() => (setState({ kind: 'idle' }), setRun(run + 1))}>
        {t('access.rawPlay')}
      </button>
      {state.kind === 'refused' && (
        <p class="error" role="alert" data-testid="raw-refused">
          {t('tile.refused', { message: state.message })}
        </p>
      )}
      <figure class="raw-figure" hidden={state.kind !== 'playing'}>
        <video ref={video} muted playsInline data-testid="raw-video" aria-label={t('tier.raw')} />
        {viewer !== '' && <figcaption class="watermark">{t('access.watermark', { viewer })}</figcaption>}
      </figure>
    </div>
  );
}
