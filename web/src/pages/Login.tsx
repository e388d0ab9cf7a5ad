import { useState } from 'preact/hooks';
import { isApiError, login } from '../api';
import { useI18n } from '../i18nContext';

export function LoginPage({ onLoggedIn, notice }: { onLoggedIn: () => void; notice: string | null }) {
  const { t } = useI18n();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await login(username, password);
      onLoggedIn();
    } catch (err) {
      if (isApiError(err) && err.retryAfterSeconds !== undefined) setError(t('login.locked', { seconds: err.retryAfterSeconds }));
      else if (isApiError(err) && err.status === 401) setError(t('login.badCredentials'));
      else if (isApiError(err) && err.status === 0) setError(t('error.network'));
      else setError(t('login.failed', { message: isApiError(err) ? err.code : String(err) }));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="login" onSubmit={(e) => void submit(e)}>
      <h2>{t('login.heading')}</h2>
      <label>
        {t('login.username')}
        <input name="username" autocomplete="username" required value={username} onInput={(e) => setUsername(e.currentTarget.value)} />
      </label>
      <label>
        {t('login.password')}
        <input
          name="password"
          type="password"
          autocomplete="current-password"
          required
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
      </label>
      {notice !== null && error === null && <p role="status">{notice}</p>}
      {error !== null && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" disabled={busy}>
        {busy ? t('login.busy') : t('login.submit')}
      </button>
    </form>
  );
}
