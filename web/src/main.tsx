import { render } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { Provider } from '@urql/preact';
import { getSession, onSessionChange } from './auth';
import { createClients } from './client';
import { AuthScreen } from './ui/auth-screen';
import { Shell } from './ui/shell';
import './styles.css';

/** Signed out: the sign-in screen. Signed in: a fresh client for this user, and the app. */
function Root() {
  const [session, setSession] = useState(getSession());
  useEffect(() => onSessionChange(() => setSession(getSession())), []);
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
