import { useState, type FormEvent } from 'react';
import { api, errorMessage } from '../api/client';

interface Props {
  /** Why the form is shown again (the server stopped accepting the token), if it is. */
  reason: string | null;
  onSignedIn: (token: string, remember: boolean) => void;
  /** Present when the dashboard can be used without signing in (reads are open). */
  onCancel?: () => void;
}

/**
 * The sign-in form of a private server (VIEWER_TOKEN set): a token is checked with
 * GET /api/session before it is kept, so a typo is told at once, not as a broken dashboard.
 */
export function SignIn({ reason, onSignedIn, onCancel }: Props) {
  const [token, setToken] = useState('');
  const [remember, setRemember] = useState(true);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const t = token.trim();
    if (!t) return;
    setBusy(true);
    setError(null);
    try {
      const s = await api.session(t);
      if (s.access === 'none') setError('This token is not accepted by the server. Check it and try again.');
      else onSignedIn(t, remember);
    } catch (err) {
      setError(`Could not check the token: ${errorMessage(err)}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="signin" id="main">
      <form className="panel signin-panel" onSubmit={submit} aria-labelledby="signin-title" data-testid="signin">
        <h1 id="signin-title">EdgeWorker Monitor</h1>
        <p className="muted">
          This dashboard is private. Sign in with the viewer token (read-only) or the API token (can also acknowledge and
          resolve alerts) you were given.
        </p>
        {reason && <p className="muted">{reason}</p>}
        <label className="signin-field">
          Access token
          <input
            type="password"
            name="token"
            autoComplete="current-password"
            value={token}
            onChange={(e) => setToken(e.target.value)}
            required
            autoFocus
          />
        </label>
        <label className="signin-check">
          <input type="checkbox" checked={remember} onChange={(e) => setRemember(e.target.checked)} />
          Stay signed in on this device
        </label>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="signin-submit" disabled={busy || token.trim() === ''}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
        {onCancel && (
          <button type="button" className="link" onClick={onCancel}>
            Back to the dashboard
          </button>
        )}
      </form>
    </main>
  );
}
