import { render } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { Provider } from '@urql/preact';
import { getSession, onSessionChange } from './auth';
import { createClients } from './client';
import { AuthScreen, ResetPasswordScreen } from './ui/auth-screen';
import { hashToken } from './router';
import { Shell } from './ui/shell';
import './styles.css';

/**
 * The mailed reset link (`#/reset?token=`) first, signed in or not; then, signed out: the sign-in
 * screen; signed in: a fresh client for this user, and the app.
 */
function Root() {
  const [session, setSession] = useState(getSession());
  const [reset, setReset] = useState(hashToken('reset'));
  useEffect(() => onSessionChange(() => setSession(getSession())), []);
  useEffect(() => {
    const update = () => setReset(hashToken('reset'));
    addEventListener('hashchange', update);
    return () => removeEventListener('hashchange', update);
  }, []);
  if (reset) return <ResetPasswordScreen token={reset} />;
  if (!session) return <AuthScreen />;
  return <SignedIn key={session.user.id} />;
}

function SignedIn() {
  const clients = useMemo(createClients, []);
  useEffect(() => () => void clients.ws.dispose(), [clients]);
  return (
    <Provider value={clients.urql}>
      <Shell ws={clients.ws} />
    </Provider>
  );
}

render(<Root />, document.getElementById('root')!);
