import { Client, fetchExchange } from '@urql/core';
import { useState } from 'preact/hooks';
import { setSession } from '../auth';
import { graphql } from '../gql';
import { errorText } from './util';
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

const anonymous = new Client({ url: '/graphql', preferGetMethod: false, exchanges: [trustedDocumentsExchange, fetchExchange], requestPolicy: 'network-only' });

/** Sign in, or create an account (one form, two modes). */
export function AuthScreen() {
  const [mode, setMode] = useState<'in' | 'up'>('in');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

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
    </main>
  );
}
