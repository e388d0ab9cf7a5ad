import { call } from '../api';
import { useI18n } from '../i18nContext';
import { Alert, isForbidden, knownText, useLoad, When } from './pageKit';
import { causeText } from './Playback';
import './pages.css';

interface Incident {
  cameraId: string | null;
  kind: string;
  severity: string;
  since: string;
}
interface Outage {
  id: number;
  cameraId: string;
  kind: string;
  cause: string;
  startedAt: string;
  endedAt: string | null;
  planned: boolean;
}
interface Platform {
  id: string;
  state: string;
  registered: boolean;
}
interface Disk {
  disk: { freeBytes: number; storedBytes: number; bytesPerSecond: number; forecastDays: number | null; full: boolean } | null;
  holdRetentionDays: number | null;
}

/** What this user may not read is left out, not shown as an error (the API decides what each role sees). */
const orNull = <T,>(p: Promise<T>): Promise<T | null> => p.catch((err: unknown) => (isForbidden(err) ? null : Promise.reject(err)));
const LEDGER_DAYS = 7;
const GIB = 1024 ** 3;

async function loadHealth() {
  const from = new Date(Date.now() - LEDGER_DAYS * 86_400_000).toISOString();
  const [incidents, outages, platforms, disk] = await Promise.all([
    orNull(call<{ items: Incident[] }>('GET', '/incidents')),
    orNull(call<{ items: Outage[] }>('GET', `/outages?from=${encodeURIComponent(from)}`)),
    orNull(call<{ items: Platform[] }>('GET', '/platforms')),
    orNull(call<Disk>('GET', '/recordings/disk')),
  ]);
  return { incidents, outages, platforms, disk };
}

/** Open incidents, the outage ledger of the last week, GB/T 28181 platform links, the recordings disk and its forecast. */
export function HealthPage({ onSessionLost }: { onSessionLost: () => void }) {
  const { t } = useI18n();
  const health = useLoad(loadHealth, [], onSessionLost);
  const h = health.data;
  const known = (prefix: string, code: string) => knownText(t, prefix, code) ?? t('health.otherKind', { code });

  return (
    <section aria-labelledby="health-heading" class="page">
      <h2 id="health-heading">{t('health.heading')}</h2>
      <Alert text={health.error} />
      <p>
        <button type="button" onClick={health.reload}>
          {t('health.refresh')}
        </button>
      </p>
      {h === null ? (
        <p>{t('cameras.loading')}</p>
      ) : (
        <>
          <h3>{t('health.incidents')}</h3>
          {h.incidents === null ? (
            <p>{t('health.notAllowed')}</p>
          ) : h.incidents.items.length === 0 ? (
            <p>{t('health.noIncidents')}</p>
          ) : (
            <table data-testid="incidents">
              <thead>
                <tr>
                  <th scope="col">{t('health.camera')}</th>
                  <th scope="col">{t('health.kind')}</th>
                  <th scope="col">{t('health.severity')}</th>
                  <th scope="col">{t('health.since')}</th>
                </tr>
              </thead>
              <tbody>
                {h.incidents.items.map((i) => (
                  <tr key={`${i.cameraId}/${i.kind}`} data-kind={i.kind}>
                    <td data-user-text>{i.cameraId ?? '—'}</td>
                    <td>{known('incident', i.kind)}</td>
                    <td>{known('severity', i.severity)}</td>
                    <td>
                      <When iso={i.since} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <h3>{t('health.outages', { days: LEDGER_DAYS })}</h3>
          {h.outages === null ? (
            <p>{t('health.notAllowed')}</p>
          ) : h.outages.items.length === 0 ? (
            <p>{t('health.noOutages')}</p>
          ) : (
            <table data-testid="outages">
              <thead>
                <tr>
                  <th scope="col">{t('health.camera')}</th>
                  <th scope="col">{t('playback.cause')}</th>
                  <th scope="col">{t('playback.from')}</th>
                  <th scope="col">{t('playback.to')}</th>
                  <th scope="col">{t('health.planned')}</th>
                </tr>
              </thead>
              <tbody>
                {h.outages.items.map((o) => (
                  <tr key={o.id} data-cause={o.cause} data-camera-id={o.cameraId}>
                    <td data-user-text>{o.cameraId}</td>
                    <td>{causeText(t, o.cause)}</td>
                    <td>
                      <When iso={o.startedAt} />
                    </td>
                    <td>{o.endedAt === null ? t('health.ongoing') : <When iso={o.endedAt} />}</td>
                    <td>{t(o.planned ? 'health.yes' : 'health.no')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <h3>{t('health.platforms')}</h3>
          {h.platforms === null ? (
            <p>{t('health.notAllowed')}</p>
          ) : h.platforms.items.length === 0 ? (
            <p data-testid="no-platforms">{t('health.noPlatforms')}</p>
          ) : (
            <table data-testid="platforms">
              <tbody>
                {h.platforms.items.map((p) => (
                  <tr key={p.id} data-state={p.state}>
                    <td data-user-text>{p.id}</td>
                    <td>{known('link', p.state)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <h3>{t('health.disk')}</h3>
          {h.disk === null ? (
            <p>{t('health.notAllowed')}</p>
          ) : h.disk.disk === null ? (
            <p>{t('health.diskUnmeasured')}</p>
          ) : (
            <dl class="disk" data-testid="disk" data-full={h.disk.disk.full}>
              <dt>{t('health.diskFree')}</dt>
              <dd>{t('health.gib', { n: (h.disk.disk.freeBytes / GIB).toFixed(1) })}</dd>
              <dt>{t('health.diskStored')}</dt>
              <dd>{t('health.gib', { n: (h.disk.disk.storedBytes / GIB).toFixed(2) })}</dd>
              <dt>{t('health.forecast')}</dt>
              <dd>
                {h.disk.disk.forecastDays === null ? t('health.noForecast') : t('health.days', { n: Math.floor(h.disk.disk.forecastDays) })}
              </dd>
              <dt>{t('health.holdRetention')}</dt>
              <dd>{h.disk.holdRetentionDays === null ? t('health.untilLifted') : t('health.days', { n: h.disk.holdRetentionDays })}</dd>
            </dl>
          )}
        </>
      )}
    </section>
  );
}
