import { useState } from 'preact/hooks';
import { onboardRowsFromCsv } from '../../../src/onvif/csv.js';
import { call, isApiError } from '../api';
import { useI18n } from '../i18nContext';
import { Alert, SiteTypeSelect, errorText } from './pageKit';
import './pages.css';

/** GET /discovery: a device found on the network, registered or not. */
interface DiscoveryEntry {
  endpointRef: string;
  address: string;
  manufacturer: string | null;
  model: string | null;
  serialNumber: string | null;
  registered: boolean;
  cameraId: string | null;
}
interface OnboardAnswer {
  outcome: 'onboarded' | 'already_registered';
  cameraId: string;
}
/** One CSV row's outcome, as `psvgw onboard --csv` reports it. */
interface RowReport {
  line: number;
  device: string;
  outcome: 'onboarded' | 'already_registered' | 'failed';
  cameraId: string | null;
  message: string | null;
}

const FIELDS = ['device', 'username', 'password', 'name', 'address'] as const;
type Field = (typeof FIELDS)[number];

/** ONVIF discovery, onboarding one device, and the CSV import with its per-row report. */
export function OnboardingPage({ onSessionLost }: { onSessionLost: () => void }) {
  const { t } = useI18n();
  const [error, setError] = useState<string | null>(null);
  const failed = (err: unknown) => {
    if (isApiError(err) && err.status === 401) return onSessionLost();
    setError(errorText(t, err));
  };
  return (
    <section aria-labelledby="onboarding-heading" class="page">
      <h2 id="onboarding-heading">{t('onboarding.heading')}</h2>
      <Alert text={error} />
      <Discovery onError={failed} />
      <OnboardForm onError={failed} onDone={() => setError(null)} />
      <CsvImport onSessionLost={onSessionLost} onError={failed} />
    </section>
  );
}

function Discovery({ onError }: { onError: (err: unknown) => void }) {
  const { t } = useI18n();
  const [found, setFound] = useState<DiscoveryEntry[] | null>(null);
  const [busy, setBusy] = useState(false);
  const [probe, setProbe] = useState('');
  const discover = async () => {
    setBusy(true);
    try {
      // Besides the multicast probe: addresses the integrator names (other subnets, where multicast does not reach).
      const q = probe.trim() === '' ? '' : `?probe=${encodeURIComponent(probe.replace(/\s+/g, ''))}`;
      setFound((await call<{ devices: DiscoveryEntry[] }>('GET', `/discovery${q}`)).devices);
    } catch (err) {
      onError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div data-testid="discovery">
      <h3>{t('onboarding.discovery')}</h3>
      <label>
        {t('onboarding.probe')} <input name="probe" value={probe} onInput={(e) => setProbe((e.currentTarget as HTMLInputElement).value)} />
      </label>{' '}
      <button type="button" data-testid="discover" disabled={busy} onClick={() => void discover()}>
        {busy ? t('onboarding.discovering') : t('onboarding.discover')}
      </button>
      {found !== null &&
        (found.length === 0 ? (
          <p>{t('onboarding.noDevices')}</p>
        ) : (
          <div class="scroll-x">
            <table data-testid="discovered">
              <thead>
                <tr>
                  <th scope="col">{t('onboarding.field.device')}</th>
                  <th scope="col">{t('onboarding.model')}</th>
                  <th scope="col">{t('onboarding.serial')}</th>
                  <th scope="col">{t('onboarding.registered')}</th>
                </tr>
              </thead>
              <tbody>
                {found.map((d) => (
                  <tr key={d.endpointRef} data-address={d.address}>
                    <td data-user-text>{d.address}</td>
                    <td data-user-text>{[d.manufacturer, d.model].filter((v) => v !== null).join(' ') || '—'}</td>
                    <td data-user-text>{d.serialNumber ?? '—'}</td>
                    <td>{d.registered ? t('onboarding.asCamera', { id: d.cameraId ?? '' }) : t('health.no')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))}
    </div>
  );
}

function OnboardForm({ onError, onDone }: { onError: (err: unknown) => void; onDone: () => void }) {
  const { t } = useI18n();
  const [values, setValues] = useState<Record<Field, string>>({ device: '', username: '', password: '', name: '', address: '' });
  const [siteType, setSiteType] = useState('');
  const [result, setResult] = useState<OnboardAnswer | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    const body = Object.fromEntries(Object.entries({ ...values, siteType }).filter(([, v]) => v.trim() !== ''));
    try {
      setResult(await call<OnboardAnswer>('POST', '/onboard', body));
      onDone();
    } catch (err) {
      setResult(null);
      onError(err);
    }
  };
  return (
    <form class="request-form" data-testid="onboard-form" onSubmit={(e) => void submit(e)}>
      <h3>{t('onboarding.one')}</h3>
      {FIELDS.map((f) => {
        const props = {
          name: f,
          required: f === 'device',
          value: values[f],
          onInput: (e: Event) => setValues({ ...values, [f]: (e.currentTarget as HTMLInputElement).value }),
        };
        return (
          <label key={f}>
            {t(`onboarding.field.${f}`)} {f === 'password' ? <input type="password" {...props} /> : <input {...props} />}
          </label>
        );
      })}
      <SiteTypeSelect name="siteType" value={siteType} onChange={setSiteType} emptyLabel="onboarding.chooseSiteType" />
      <button type="submit">{t('onboarding.onboard')}</button>
      {result !== null && (
        <p role="status" data-testid="onboarded" data-camera-id={result.cameraId}>
          {t(`onboarding.outcome.${result.outcome}`)} {t('onboarding.asCamera', { id: result.cameraId })}
        </p>
      )}
    </form>
  );
}

function CsvImport({ onSessionLost, onError }: { onSessionLost: () => void; onError: (err: unknown) => void }) {
  const { t } = useI18n();
  const [siteType, setSiteType] = useState('');
  const [reports, setReports] = useState<RowReport[] | null>(null);
  const [busy, setBusy] = useState(false);

  // Rows go one by one through the same POST /onboard as the form; a bad row is reported, not sent.
  const importFile = async (file: File) => {
    setBusy(true);
    setReports(null);
    try {
      const rows = onboardRowsFromCsv(await file.text(), siteType === '' ? {} : { siteType });
      const done: RowReport[] = [];
      for (const row of rows) {
        const device = String(row.request.device ?? '');
        const base = { line: row.line, device, cameraId: null, message: null };
        if (row.problem !== undefined) {
          done.push({ ...base, outcome: 'failed', message: row.problem });
        } else {
          try {
            const answer = await call<OnboardAnswer>('POST', '/onboard', row.request);
            done.push({ ...base, outcome: answer.outcome, cameraId: answer.cameraId });
          } catch (err) {
            if (isApiError(err) && err.status === 401) return onSessionLost();
            done.push({ ...base, outcome: 'failed', message: isApiError(err) ? `${err.code}: ${err.message}` : String(err) });
          }
        }
        setReports([...done]);
      }
    } catch (err) {
      // The file as a whole: unknown columns, no device column, an unterminated quote.
      onError({ status: 400, code: 'VALIDATION_FAILED', message: err instanceof Error ? err.message : String(err) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <div data-testid="csv-import" data-busy={String(busy)}>
      <h3>{t('onboarding.csv')}</h3>
      <p>{t('onboarding.csvHint')}</p>
      <SiteTypeSelect name="csvSiteType" value={siteType} onChange={setSiteType} emptyLabel="onboarding.chooseSiteType" />{' '}
      <label>
        {t('onboarding.csvFile')}{' '}
        <input
          type="file"
          accept=".csv,text/csv"
          data-testid="csv-file"
          disabled={busy}
          onChange={(e) => {
            const file = (e.currentTarget as HTMLInputElement).files?.[0];
            if (file !== undefined) void importFile(file);
          }}
        />
      </label>
      {reports !== null && (
        <div class="scroll-x">
          <table data-testid="csv-report">
            <thead>
              <tr>
                <th scope="col">{t('onboarding.line')}</th>
                <th scope="col">{t('onboarding.field.device')}</th>
                <th scope="col">{t('onboarding.outcome')}</th>
                <th scope="col">{t('onboarding.detail')}</th>
              </tr>
            </thead>
            <tbody>
              {reports.map((r) => (
                <tr key={r.line} data-line={r.line} data-outcome={r.outcome}>
                  <td data-user-text>{r.line}</td>
                  <td data-user-text>{r.device}</td>
                  <td>{t(`onboarding.outcome.${r.outcome}`)}</td>
                  <td data-user-text>{r.cameraId !== null ? t('onboarding.asCamera', { id: r.cameraId }) : (r.message ?? '')}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {!busy && (
            <p role="status" data-testid="csv-summary">
              {t('onboarding.csvSummary', {
                total: reports.length,
                failed: reports.filter((r) => r.outcome === 'failed').length,
              })}
            </p>
          )}
        </div>
      )}
    </div>
  );
}
