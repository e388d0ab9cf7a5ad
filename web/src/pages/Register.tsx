import { useState } from 'preact/hooks';
import { REGISTER_METHODS, type RegisterEntry, type RegisterMethod } from '../../../src/domain/accessRegister.js';
import type { AuditVerifyResult } from '../../../src/api/contract.js';
import type { AuditEntry } from '../../../src/domain/camera.js';
import { call, isApiError } from '../api';
import { useI18n } from '../i18nContext';
import { Alert, errorText, knownText, useLoad, When } from './pageKit';
import './pages.css';

const DAY_MS = 86_400_000;
const REPORT_FORMATS = ['csv', 'html', 'pdf'] as const;
/** A date input's value (local date) for a time. */
const localDate = (ms: number) => new Date(ms - new Date(ms).getTimezoneOffset() * 60_000).toISOString().slice(0, 10);

interface RegisterReport {
  items: RegisterEntry[];
  ongoing: RegisterEntry[];
}

/** For auditors: the access register of a period (with its downloads) and the audit log. */
export function RegisterPage({ onSessionLost }: { onSessionLost: () => void }) {
  const { t } = useI18n();
  return (
    <section aria-labelledby="register-heading" class="page">
      <h2 id="register-heading">{t('register.heading')}</h2>
      <AccessRegister onSessionLost={onSessionLost} />
      <AuditVerify onSessionLost={onSessionLost} />
      <AuditLog onSessionLost={onSessionLost} />
    </section>
  );
}

function AccessRegister({ onSessionLost }: { onSessionLost: () => void }) {
  const { t, lang } = useI18n();
  const [from, setFrom] = useState(() => localDate(Date.now() - 30 * DAY_MS));
  const [to, setTo] = useState(() => localDate(Date.now() + DAY_MS));
  const [method, setMethod] = useState<RegisterMethod | ''>('');
  // Dates as the API's reports take them; the period is the same for the table and the downloads.
  const period = () => new URLSearchParams({ from, to });
  const register = useLoad(() => call<RegisterReport>('GET', `/access-register?${period().toString()}`), [from, to], onSessionLost);
  const rows = [
    ...(register.data?.ongoing ?? []).map((e) => ({ ...e, ongoing: true })),
    ...(register.data?.items ?? []).map((e) => ({ ...e, ongoing: false })),
  ].filter((e) => method === '' || e.method === method);
  const download = (format: string) => {
    const q = period();
    q.set('format', format);
    q.set('lang', lang);
    return `/api/v1/access-register?${q.toString()}`;
  };

  return (
    <div data-testid="access-register">
      <h3>{t('register.register')}</h3>
      <Alert text={register.error} />
      <p class="filters">
        <label>
          {t('register.from')}{' '}
          <input type="date" name="register-from" value={from} onInput={(e) => setFrom((e.currentTarget as HTMLInputElement).value)} />
        </label>{' '}
        <label>
          {t('register.to')}{' '}
          <input type="date" name="register-to" value={to} onInput={(e) => setTo((e.currentTarget as HTMLInputElement).value)} />
        </label>{' '}
        <label>
          {t('register.method')}{' '}
          <select
            data-testid="register-method"
            value={method}
            onChange={(e) => setMethod((e.currentTarget as HTMLSelectElement).value as RegisterMethod | '')}
          >
            <option value="">{t('cameras.any')}</option>
            {REGISTER_METHODS.map((m) => (
              <option key={m} value={m}>
                {t(`register.method.${m}`)}
              </option>
            ))}
          </select>
        </label>{' '}
        {REPORT_FORMATS.map((f) => (
          <a key={f} href={download(f)} download data-format={f}>
            {t(`register.download.${f}`)}
          </a>
        ))}
      </p>
      {register.data !== null && rows.length === 0 ? (
        <p>{t('register.empty')}</p>
      ) : (
        <div class="scroll-x">
          <table data-testid="register">
            <thead>
              <tr>
                <th scope="col">{t('register.method')}</th>
                <th scope="col">{t('register.tier')}</th>
                <th scope="col">{t('register.retriever')}</th>
                <th scope="col">{t('register.recorder')}</th>
                <th scope="col">{t('register.started')}</th>
                <th scope="col">{t('register.ended')}</th>
                <th scope="col">{t('access.purpose')}</th>
                <th scope="col">{t('register.cameras')}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((e) => (
                <tr
                  key={`${e.ongoing ? 'o' : 'r'}${e.id}`}
                  data-method={e.method}
                  data-tier={e.tier}
                  data-retriever={e.retriever.username ?? ''}
                  data-ongoing={String(e.ongoing)}
                >
                  <td>{t(`register.method.${e.method}`)}</td>
                  <td>{t(`tier.${e.tier}`)}</td>
                  <td data-user-text>{e.retriever.username ?? '—'}</td>
                  <td data-user-text>{e.recorder}</td>
                  <td>
                    <When iso={e.startedAt} />
                  </td>
                  <td>{e.ongoing ? t('health.ongoing') : <When iso={e.endedAt} />}</td>
                  <td data-user-text>{e.purpose ?? '—'}</td>
                  <td data-user-text>{e.cameraIds.join(', ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function AuditLog({ onSessionLost }: { onSessionLost: () => void }) {
  const { t } = useI18n();
  const [action, setAction] = useState('');
  const [applied, setApplied] = useState('');
  const audit = useLoad(
    () => call<{ items: AuditEntry[] }>('GET', `/audit?limit=200${applied === '' ? '' : `&action=${encodeURIComponent(applied)}`}`),
    [applied],
    onSessionLost,
  );
  return (
    <div data-testid="audit-log">
      <h3>{t('audit.heading')}</h3>
      <Alert text={audit.error} />
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied(action.trim());
        }}
      >
        <label>
          {t('audit.action')}{' '}
          <input name="audit-action" value={action} onInput={(e) => setAction((e.currentTarget as HTMLInputElement).value)} />
        </label>{' '}
        <button type="submit">{t('audit.filter')}</button>
      </form>
      <p>{t('audit.chainNote')}</p>
      {audit.data !== null && audit.data.items.length === 0 ? (
        <p>{t('audit.empty')}</p>
      ) : (
        <div class="scroll-x">
          <table data-testid="audit">
            <thead>
              <tr>
                <th scope="col">{t('audit.seq')}</th>
                <th scope="col">{t('audit.at')}</th>
                <th scope="col">{t('audit.actor')}</th>
                <th scope="col">{t('audit.action')}</th>
                <th scope="col">{t('pages.camera')}</th>
                <th scope="col">{t('audit.outcome')}</th>
                <th scope="col">{t('audit.hash')}</th>
              </tr>
            </thead>
            <tbody>
              {audit.data?.items.map((e) => (
                <tr key={e.id ?? e.seq} data-action={e.action}>
                  <td data-user-text>{e.seq ?? '—'}</td>
                  <td>
                    <When iso={e.at} />
                  </td>
                  <td data-user-text>{e.actor}</td>
                  <td data-user-text>{e.action}</td>
                  <td data-user-text>{e.cameraId ?? '—'}</td>
                  <td>{t(`audit.outcome.${e.outcome}`)}</td>
                  <td data-user-text class="hash">
                    {(e.entryHash ?? '').slice(0, 12)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

/** The audit chain checked on the gateway (GET /audit/verify, the check of `psvgw audit verify`), on request. */
function AuditVerify({ onSessionLost }: { onSessionLost: () => void }) {
  const { t } = useI18n();
  const [result, setResult] = useState<AuditVerifyResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const verify = async () => {
    setBusy(true);
    try {
      setResult(await call<AuditVerifyResult>('GET', '/audit/verify'));
      setError(null);
    } catch (err) {
      if (isApiError(err) && err.status === 401) return onSessionLost();
      setResult(null);
      setError(errorText(t, err));
    } finally {
      setBusy(false);
    }
  };
  const reason = (kind: string) => knownText(t, 'audit.reason', kind) ?? kind;
  return (
    <div data-testid="audit-verify">
      <h3>{t('audit.verify.heading')}</h3>
      <p>
        <button type="button" data-testid="audit-verify-run" disabled={busy} onClick={() => void verify()}>
          {t('audit.verify.run')}
        </button>
      </p>
      <Alert text={error} />
      {result !== null && (
        <div
          role="status"
          data-testid="audit-verify-result"
          data-ok={String(result.ok)}
          data-entries={result.entries}
          data-first-bad={result.firstBadIndex ?? ''}
          data-reason={result.reason ?? ''}
          class={result.ok ? 'verified' : 'error'}
        >
          <p>
            {result.ok
              ? t('audit.verify.ok', { entries: result.entries, signed: result.signedSeq })
              : t('audit.verify.failed', {
                  problems: result.problems,
                  seq: result.firstBadIndex ?? '—',
                  reason: reason(result.reason ?? ''),
                })}
          </p>
          {result.message !== undefined && <p data-user-text>{result.message}</p>}
        </div>
      )}
    </div>
  );
}
