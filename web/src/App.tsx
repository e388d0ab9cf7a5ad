import { useEffect, useMemo, useState } from 'preact/hooks';
import { forgetSession, hasSession, logout } from './api';
import { initialLang, rememberLang, translator, type Lang } from './i18n';
import { I18nContext } from './i18nContext';
import { CamerasPage } from './pages/Cameras';
import { LoginPage } from './pages/Login';
import { WallPage } from './pages/Wall';
import { PlaybackPage } from './pages/Playback';
import { MaskEditorPage } from './pages/MaskEditor';
import { AccessPage } from './pages/Access';
import { HealthPage } from './pages/Health';
import { ChangesPage } from './pages/Changes';
import { RegisterPage } from './pages/Register';
import { OnboardingPage } from './pages/Onboarding';

type Page = 'cameras' | 'wall' | 'playback' | 'masks' | 'access' | 'health' | 'changes' | 'register' | 'onboarding';
const PATHS: Record<Page, string> = {
  cameras: '/cameras',
  wall: '/wall',
  playback: '/timeline',
  masks: '/masks',
  access: '/access',
  health: '/health',
  changes: '/changes',
  register: '/register',
  onboarding: '/onboarding',
};
const pageOf = (path: string): Page => (Object.keys(PATHS) as Page[]).find((p) => path.startsWith(PATHS[p])) ?? 'cameras';

export function App() {
  const [lang, setLang] = useState<Lang>(initialLang);
  const [loggedIn, setLoggedIn] = useState(hasSession);
  const [page, setPage] = useState<Page>(pageOf(location.pathname));
  const [expired, setExpired] = useState(false);
  const i18n = useMemo(() => ({ lang, t: translator(lang) }), [lang]);

  useEffect(() => {
    document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
    document.title = i18n.t('app.title');
  }, [i18n]);
  useEffect(() => {
    const onPop = () => setPage(pageOf(location.pathname));
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);

  const go = (p: Page) => {
    history.pushState(null, '', PATHS[p]);
    setPage(p);
  };
  const chooseLang = (l: Lang) => {
    rememberLang(l);
    setLang(l);
  };
  const t = i18n.t;
  // A 401 from the API: the session ended (expiry, logout elsewhere, a restart with new keys).
  const sessionLost = () => {
    forgetSession();
    setExpired(true);
    setLoggedIn(false);
  };

  return (
    <I18nContext.Provider value={i18n}>
      <header class="bar">
        <h1>{t('app.title')}</h1>
        {loggedIn && (
          <nav aria-label={t('app.title')}>
            <button type="button" aria-current={page === 'cameras' ? 'page' : undefined} onClick={() => go('cameras')}>
              {t('nav.cameras')}
            </button>
            <button type="button" aria-current={page === 'wall' ? 'page' : undefined} onClick={() => go('wall')}>
              {t('nav.wall')}
            </button>
            {(['playback', 'masks', 'access', 'health', 'changes', 'register', 'onboarding'] as const).map((p) => (
              <button key={p} type="button" aria-current={page === p ? 'page' : undefined} onClick={() => go(p)}>
                {t(`nav.${p}`)}
              </button>
            ))}
          </nav>
        )}
        <label class="lang">
          {t('nav.language')}
          <select value={lang} onChange={(e) => chooseLang((e.currentTarget as HTMLSelectElement).value as Lang)} data-testid="lang">
            <option value="zh">{t('lang.zh')}</option>
            <option value="en">{t('lang.en')}</option>
          </select>
        </label>
        {loggedIn && (
          <button type="button" onClick={() => void logout().finally(() => setLoggedIn(false))}>
            {t('nav.logout')}
          </button>
        )}
      </header>
      <main>
        {!loggedIn ? (
          <LoginPage
            notice={expired ? t('error.sessionExpired') : null}
            onLoggedIn={() => {
              setExpired(false);
              setLoggedIn(true);
            }}
          />
        ) : page === 'wall' ? (
          <WallPage onSessionLost={sessionLost} />
        ) : page === 'playback' ? (
          <PlaybackPage onSessionLost={sessionLost} />
        ) : page === 'masks' ? (
          <MaskEditorPage onSessionLost={sessionLost} />
        ) : page === 'access' ? (
          <AccessPage onSessionLost={sessionLost} />
        ) : page === 'health' ? (
          <HealthPage onSessionLost={sessionLost} />
        ) : page === 'changes' ? (
          <ChangesPage onSessionLost={sessionLost} />
        ) : page === 'register' ? (
          <RegisterPage onSessionLost={sessionLost} />
        ) : page === 'onboarding' ? (
          <OnboardingPage onSessionLost={sessionLost} />
        ) : (
          <CamerasPage onSessionLost={sessionLost} />
        )}
      </main>
    </I18nContext.Provider>
  );
}
