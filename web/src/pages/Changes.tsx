import { useState } from 'preact/hooks';
import type { PendingChange } from '../../../src/domain/pendingChanges.js';
import { call, isApiError } from '../api';
import type { MessageKey } from '../i18n';
import { useI18n } from '../i18nContext';
import { Alert, errorText, useLoad, When } from './pageKit';
import './pages.css';

type Verb = 'approve' | 'reject' | 'withdraw';

/** Changes that weaken protection, waiting for a second admin: approve or reject with a reason, withdraw one's own. */
export function ChangesPage({ onSessionLost }: { onSessionLost: () => void }) {
  const { t } = useI18n();
  const changes = useLoad(() => call<{ items: PendingChange[] }>('GET', '/pending-changes'), [], onSessionLost);
  const me = useLoad(() => call<{ username: string }>('GET', '/auth/me'), [], onSessionLost);
  const [reasons, setReasons] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  // The API decides who may do what (four eyes): the page shows its refusal as it is.
  const decide = async (id: string, verb: Verb) => {
    try {
      const reason = (reasons[id] ?? '').trim();
      await call('POST', `/pending-changes/${encodeURIComponent(id)}/${verb}`, reason === '' ? {} : { reason });
      setError(null);
      setNotice(t(`changes.done.${verb}`));
      changes.reload();
    } catch (err) {
      if (isApiError(err) && err.status === 401) return onSessionLost();
      setNotice(null);
      setError(errorText(t, err));
    }
  };

  // Rows wait for the user's name too: which are one's own (to withdraw) is known only then.
  const loaded = changes.data !== null && (me.data !== null || me.error !== null);
  const items = loaded ? (changes.data?.items ?? []) : [];
  return (
    <section aria-labelledby="changes-heading" class="page">
      <h2 id="changes-heading">{t('changes.heading')}</h2>
      <Alert text={changes.error ?? me.error ?? error} />
      {notice !== null && <p role="status">{notice}</p>}
      {loaded && items.length === 0 ? (
        <p data-testid="no-changes">{t('changes.none')}</p>
      ) : (
        <div class="scroll-x">
          <table data-testid="changes">
            <thead>
              <tr>
                <th scope="col">{t('changes.summary')}</th>
                <th scope="col">{t('changes.proposedBy')}</th>
                <th scope="col">{t('changes.state')}</th>
                <th scope="col">{t('changes.expires')}</th>
                <th scope="col">{t('changes.decision')}</th>
                <th scope="col">{t('access.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((c) => (
                <tr key={c.id} data-change-id={c.id} data-state={c.state}>
                  <td data-user-text>{c.summary}</td>
                  <td data-user-text>{c.proposedBy.username}</td>
                  <td>{t(`changes.state.${c.state}` as MessageKey)}</td>
                  <td>
                    <When iso={c.expiresAt} />
                  </td>
                  <td data-user-text>{c.decidedBy === null ? '' : `${c.decidedBy}: ${c.decisionReason ?? ''}`}</td>
                  <td>
                    {c.state === 'pending' && (
                      <>
                        <label>
                          {t('changes.reason')}{' '}
                          <input
                            name={`reason-${c.id}`}
                            value={reasons[c.id] ?? ''}
                            onInput={(e) => setReasons({ ...reasons, [c.id]: (e.currentTarget as HTMLInputElement).value })}
                          />
                        </label>{' '}
                        <button type="button" data-action="approve" onClick={() => void decide(c.id, 'approve')}>
                          {t('access.approve')}
                        </button>{' '}
                        <button type="button" data-action="reject" onClick={() => void decide(c.id, 'reject')}>
                          {t('access.reject')}
                        </button>
                        {me.data?.username === c.proposedBy.username && (
                          <>
                            {' '}
                            <button type="button" data-action="withdraw" onClick={() => void decide(c.id, 'withdraw')}>
                              {t('changes.withdraw')}
                            </button>
                          </>
                        )}
                      </>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
