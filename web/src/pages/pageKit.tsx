import { useEffect, useState } from 'preact/hooks';
import { call, isApiError, type ApiError } from '../api';
import { MESSAGES, SITE_TYPES, siteTypeName, type MessageKey, type Translate } from '../i18n';
import { useI18n } from '../i18nContext';

/** Cameras to choose from on a page (the first page of the list, enough for a choice box). */
export interface CameraChoice {
  id: string;
  name: string;
}

export async function cameraChoices(): Promise<CameraChoice[]> {
  const page = await call<{ items: CameraChoice[] }>('GET', '/cameras?offset=0&limit=500');
  return page.items.map((c) => ({ id: c.id, name: c.name }));
}

/** A refused or failed call as the user reads it: the API's own message, or that the gateway is unreachable. */
export function errorText(t: Translate, err: unknown): string {
  if (isApiError(err) && err.status === 0) return t('error.network');
  return t('error.api', { message: isApiError(err) ? err.message : String(err) });
}

/** Whether the API refused the call for lack of a permission (the page then leaves that part out). */
export const isForbidden = (err: unknown): err is ApiError => isApiError(err) && err.status === 403;

/**
 * Loads `load()` when `key` changes (and on `reload()`); a 401 ends the session.
 * Returns the data, the error text, and a reload function.
 */
export function useLoad<T>(
  load: () => Promise<T>,
  key: unknown[],
  onSessionLost: () => void,
): { data: T | null; error: string | null; reload: () => void } {
  const { t } = useI18n();
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [round, setRound] = useState(0);
  useEffect(() => {
    let stopped = false;
    load().then(
      (value) => {
        if (stopped) return;
        setData(value);
        setError(null);
      },
      (err: unknown) => {
        if (stopped) return;
        if (isApiError(err) && err.status === 401) return onSessionLost();
        setError(errorText(t, err));
      },
    );
    return () => {
      stopped = true;
    };
  }, [...key, round, t]);
  return { data, error, reload: () => setRound((r) => r + 1) };
}

/** The message `prefix.code` where one exists (a code from the API: a cause, a state, a kind); null otherwise. */
export function knownText(t: Translate, prefix: string, code: string): string | null {
  const key = `${prefix}.${code}`;
  return key in MESSAGES.zh ? t(key as MessageKey) : null;
}

/** A time as the user's locale writes it; marked as data, not a message. */
export function When({ iso }: { iso: string | number | null }) {
  if (iso === null) return <span data-user-text>—</span>;
  return (
    <time data-user-text dateTime={new Date(iso).toISOString()}>
      {new Date(iso).toLocaleString()}
    </time>
  );
}

export function Alert({ text }: { text: string | null }) {
  return text === null ? null : (
    <p class="error" role="alert">
      {text}
    </p>
  );
}

export function CameraSelect({
  cameras,
  value,
  onChange,
  testId,
  label,
}: {
  cameras: CameraChoice[];
  value: string;
  onChange: (id: string) => void;
  testId: string;
  /** The choice's label (default: the camera). */
  label?: string;
}) {
  const { t } = useI18n();
  return (
    <label>
      {label ?? t('pages.camera')}{' '}
      <select data-testid={testId} value={value} onChange={(e) => onChange((e.currentTarget as HTMLSelectElement).value)}>
        <option value="">{t('wall.chooseCamera')}</option>
        {cameras.map((c) => (
          <option key={c.id} value={c.id} data-user-text>
            {c.name}
          </option>
        ))}
      </select>
    </label>
  );
}

/** The site types of the gateway's catalogue as a choice; `emptyLabel` names the empty choice (any, or none yet). */
export function SiteTypeSelect({
  name,
  value,
  onChange,
  emptyLabel,
}: {
  name: string;
  value: string;
  onChange: (siteType: string) => void;
  emptyLabel: MessageKey;
}) {
  const { t, lang } = useI18n();
  return (
    <label>
      {t('cameras.siteType')}{' '}
      <select name={name} value={value} onChange={(e) => onChange((e.currentTarget as HTMLSelectElement).value)}>
        <option value="">{t(emptyLabel)}</option>
        {SITE_TYPES.map((s) => (
          <option key={s} value={s}>
            {siteTypeName(lang, s)}
          </option>
        ))}
      </select>
    </label>
  );
}
