import { useMutation } from '@urql/preact';
import { graphql } from '../gql';
import { navigate } from '../router';
import { SessionView } from './session';
import { errorText } from './util';

const Open = graphql(`
  mutation WebOpenPaidSession($input: OpenPaidSessionInput!) {
    openPaidSession(input: $input) { token session { id state } invoice { id paymentRequest } }
  }
`);

/** Open a prepaid session (a deposit invoice), or look at one (`/paid/<id>`). */
export function PaidPage({ path }: { path: string }) {
  const sessionId = path.split('/')[2];
  const [opened, open] = useMutation(Open);
  if (sessionId) return <SessionView key={sessionId} sessionId={sessionId} />;
  return (
    <main class="page">
      <h2>Paid session</h2>
      <p>Pay a Lightning invoice up front, then chat until the balance runs low; top up to go on.</p>
      <form
        aria-label="Open a paid session"
        onSubmit={async (e) => {
          e.preventDefault();
          const amountSats = Number(new FormData(e.currentTarget as HTMLFormElement).get('amount'));
          const r = await open({ input: { amountSats } });
          if (r.data) {
            // Signed in, you own the session: the token is for clients without an account.
            sessionStorage.setItem(`confab.sessionToken.${r.data.openPaidSession.session.id}`, r.data.openPaidSession.token);
            navigate(`/paid/${r.data.openPaidSession.session.id}`);
          }
        }}
      >
        <label>
          Deposit (sats) <input name="amount" type="number" min={1} required value="1000" />
        </label>
        <button type="submit" disabled={opened.fetching}>Open session</button>
        {opened.error && <p role="alert">{errorText(opened.error)}</p>}
      </form>
    </main>
  );
}
