import { Client, fetchExchange } from '@urql/core';
import { useState } from 'preact/hooks';
import { setSession } from '../auth';
import { graphql } from '../gql';
import { errorText } from './util';
import { clearHashRoute, hashToken } from '../router';
import { trustedDocumentsExchange } from '../trusted';

const Login = graphql(`
  mutation WebLogin($input: LoginInput!) {
    login(input: $input) { accessToken refreshToken accessTokenExpiresAt user { id name email } }
  }
`);
const Register = graphql(`
  mutation WebRegister($input: RegisterInput!) {
    register(input: $input) { accessToken refreshToken accessTokenExpiresAt user { id name email } }
  }
`);

const RequestReset = graphql(`
  mutation WebRequestPasswordReset($input: RequestPasswordResetInput!) { requestPasswordReset(input: $input) { accepted } }
`);
const Reset = graphql(`
  mutation WebResetPassword($input: ResetPasswordInput!) {
    resetPassword(input: $input) { accessToken refreshToken accessTokenExpiresAt user { id name email } }
  }
`);

const anonymous = new Client({ url: '/graphql', preferGetMethod: false, exchanges: [trustedDocumentsExchange, fetchExchange], requestPolicy: 'network-only' });

/** Sign in, or create an account (one form, two modes), or ask for a password reset link. */
export function AuthScreen() {
  const [mode, setMode] = useState<'in' | 'up' | 'forgot'>('in');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  if (mode === 'forgot') return <ForgotPassword onBack={() => setMode('in')} />;

  async function submit(e: Event) {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const email = String(form.get('email'));
    const password = String(form.get('password'));
    setBusy(true);
    setError('');
    const r =
      mode === 'in'
        ? await anonymous.mutation(Login, { input: { email, password } }).toPromise()
        : await anonymous.mutation(Register, { input: { email, password, name: String(form.get('name')) } }).toPromise();
    setBusy(false);
    const payload = r.data && ('login' in r.data ? r.data.login : r.data.register);
    if (payload) setSession(payload);
    else setError(errorText(r.error));
  }

  return (
    <main class="auth">
      <h1>Confab</h1>
      {hashToken('verify') && <p role="status">Sign in to confirm your email address.</p>}
      <div role="tablist" aria-label="Account">
        <button role="tab" aria-selected={mode === 'in'} onClick={() => setMode('in')}>Sign in</button>
        <button role="tab" aria-selected={mode === 'up'} onClick={() => setMode('up')}>Sign up</button>
      </div>
      <form onSubmit={submit} aria-label={mode === 'in' ? 'Sign in' : 'Sign up'}>
        {mode === 'up' && (
          <label>
            Name <input name="name" required autoComplete="name" />
          </label>
        )}
        <label>
          Email <input name="email" type="email" required autoComplete="email" />
        </label>
        <label>
          Password <input name="password" type="password" required minLength={8} autoComplete={mode === 'in' ? 'current-password' : 'new-password'} />
        </label>
        {error && <p role="alert">{error}</p>}
        <button type="submit" disabled={busy}>{mode === 'in' ? 'Sign in' : 'Create account'}</button>
      </form>
      {mode === 'in' && (
        <button class="link" onClick={() => setMode('forgot')}>Forgot your password?</button>
      )}
    </main>
  );
}

/** Asks for a reset link by email; the answer is the same whether or not the address has an account. */
function ForgotPassword({ onBack }: { onBack(): void }) {
  const [state, setState] = useState<'idle' | 'busy' | 'sent'>('idle');
  const [error, setError] = useState('');
  return (
    <main class="auth">
      <h1>Confab</h1>
      <form
        aria-label="Reset your password"
        onSubmit={async (e) => {
          e.preventDefault();
          setState('busy');
          setError('');
          const email = String(new FormData(e.currentTarget as HTMLFormElement).get('email'));
          const r = await anonymous.mutation(RequestReset, { input: { email } }).toPromise();
          if (r.data) setState('sent');
          else (setState('idle'), setError(errorText(r.error)));
        }}
      >
        <label>
          Email <input name="email" type="email" required autoComplete="email" />
        </label>
        {error && <p role="alert">{error}</p>}
        <button type="submit" disabled={state === 'busy'}>Send reset link</button>
      </form>
      {state === 'sent' && <p role="status">If an account uses that address, a link to reset its password is on its way.</p>}
      <button class="link" onClick={onBack}>Back to sign in</button>
    </main>
  );
}

/**
 * The page the reset mail links to: a new password for the token. Success signs in (every other
 * login was revoked) and leaves the reset route.
 */
export function ResetPasswordScreen({ token }: { token: string }) {
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  return (
    <main class="auth">
      <h1>Confab</h1>
      <form
        aria-label="Choose a new password"
        onSubmit={async (e) => {
          e.preventDefault();
          const form = new FormData(e.currentTarget as HTMLFormElement);
          const newPassword = String(form.get('newPassword'));
          if (newPassword !== String(form.get('confirm'))) return setError('The two passwords differ.');
          setBusy(true);
          setError('');
          const r = await anonymous.mutation(Reset, { input: { token, newPassword } }).toPromise();
          setBusy(false);
          const p = r.data?.resetPassword;
          if (!p) return setError(r.error?.graphQLErrors[0]?.extensions?.code === 'GONE' ? 'This link has expired: ask for a new one.' : errorText(r.error));
          setSession(p);
          clearHashRoute();
        }}
      >
        <label>
          New password <input name="newPassword" type="password" required minLength={8} autoComplete="new-password" />
        </label>
        <label>
          Repeat it <input name="confirm" type="password" required minLength={8} autoComplete="new-password" />
        </label>
        {error && <p role="alert">{error}</p>}
        <button type="submit" disabled={busy}>Set password</button>
      </form>
      <button class="link" onClick={clearHashRoute}>Cancel</button>
    </main>
  );
}
