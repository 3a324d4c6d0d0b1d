/**
 * Decides between the sign-in form and the dashboard. A server without VIEWER_TOKEN
 * answers every session with access, so the form never shows there. The app is not
 * mounted before access is known: no request, no socket goes out to be refused.
 */
import { useCallback, useEffect, useState } from 'react';
import { api } from './api/client';
import { clearToken, currentToken, onTokenRejected, storeToken } from './api/token';
import { App } from './App';
import { SignIn } from './components/SignIn';

type Gate = { state: 'checking' } | { state: 'signin'; reason: string | null; optional?: boolean } | { state: 'app' };

export function AuthGate() {
  const [gate, setGate] = useState<Gate>({ state: 'checking' });
  const [signedIn, setSignedIn] = useState(() => currentToken() !== null);
  // Reads are open but changes need API_TOKEN: offer a sign-in for that.
  const [canSignInToWrite, setCanSignInToWrite] = useState(false);

  useEffect(() => {
    const ctrl = new AbortController();
    api.session(currentToken(), ctrl.signal).then(
      (s) => {
        setCanSignInToWrite(s.access === 'read' && s.writeRequiresToken);
        setGate(s.access === 'none' ? { state: 'signin', reason: currentToken() ? 'The saved token is no longer accepted.' : null } : { state: 'app' });
      },
      // The server is unreachable: the dashboard itself shows that and retries.
      () => {
        if (!ctrl.signal.aborted) setGate({ state: 'app' });
      },
    );
    return () => ctrl.abort();
  }, []);

  useEffect(
    () =>
      onTokenRejected(() => {
        clearToken();
        setSignedIn(false);
        setGate({ state: 'signin', reason: 'The server no longer accepts your token: sign in again.' });
      }),
    [],
  );

  const signIn = useCallback((token: string, remember: boolean) => {
    storeToken(token, remember);
    setSignedIn(true);
    setGate({ state: 'app' });
  }, []);
  const signOut = useCallback(() => {
    clearToken();
    setSignedIn(false);
    setGate({ state: 'signin', reason: null });
  }, []);

  if (gate.state === 'checking') return null;
  const toApp = () => setGate({ state: 'app' });
  if (gate.state === 'signin') return <SignIn reason={gate.reason} onSignedIn={signIn} onCancel={gate.optional ? toApp : undefined} />;
  const offerSignIn = !signedIn && canSignInToWrite;
  return (
    <App
      onSignOut={signedIn ? signOut : undefined}
      onSignIn={offerSignIn ? () => setGate({ state: 'signin', reason: 'Reading is open; acknowledging and resolving alerts needs the API token.', optional: true }) : undefined}
    />
  );
}
