import { useEffect, useRef, useState } from 'preact/hooks';
import { useClient, useMutation, useQuery } from '@urql/preact';
import { graphql } from '../gql';
import type { SessionState } from '../gql/graphql';
import { ChatLog, useChat } from './chat';
import { ChatComposer } from './composer';
import { Invoice } from './invoice';
import { useApp } from './shell';
import { errorText } from './util';

const SessionQuery = graphql(`
  query WebSession($id: ID!) {
    session(id: $id) {
      id state balanceSats minimumBalanceSats expiresAt
      pendingTopUp { id paymentRequest paymentHash amountSats }
      invoices(first: 1) { edges { node { id kind state paymentRequest paymentHash amountSats } } }
      messages(last: 100) { edges { node { ...WebChatMessage } } }
    }
    models { id name }
  }
`);
const SessionEvents = graphql(`
  subscription WebSessionEvents($id: ID!) {
    sessionEvents(sessionId: $id) {
      __typename
      ... on SessionStateChanged { state balanceSats expiresAt }
      ... on CostDebited { chargedSats balanceAfterSats }
      ... on ThreadMessageAdded { message { ...WebChatMessage } }
      ... on AssistantDelta { messageId delta index }
      ... on AssistantDone { message { ...WebChatMessage } }
      ... on AssistantFailed { messageId message { ...WebChatMessage } }
    }
  }
`);
const Send = graphql(`
  mutation WebSendSessionMessage($input: SendSessionMessageInput!) {
    sendSessionMessage(input: $input) { userMessage { ...WebChatMessage } assistantMessage { ...WebChatMessage } request { chargedSats balanceAfterSats } }
  }
`);
const TopUp = graphql(`
  mutation WebTopUp($input: TopUpSessionInput!) {
    topUpSession(input: $input) { invoice { id paymentRequest paymentHash amountSats } session { id state } }
  }
`);

const STATE_TEXT: Record<SessionState, string> = {
  AWAITING_PAYMENT: 'Awaiting payment',
  ACTIVE: 'Active',
  PAUSED: 'Paused: top up to continue',
  EXPIRED: 'Expired',
  CLOSED: 'Closed',
};

/** A prepaid session: its invoice until paid, then live state and balance, chat, and top-ups. */
export function SessionView({ sessionId }: { sessionId: string }) {
  const [{ data, error }, refetch] = useQuery({ query: SessionQuery, variables: { id: sessionId }, requestPolicy: 'network-only' });
  if (error) return <main class="page"><p role="alert">{errorText(error)}</p></main>;
  if (!data) return <main class="page"><p role="status">Loading…</p></main>;
  if (!data.session) return <main class="page"><p role="alert">This session does not exist, or it is not yours.</p></main>;
  return <Live data={data} refetch={() => refetch({ requestPolicy: 'network-only' })} />;
}

type Data = NonNullable<ReturnType<typeof useQuery<import('../gql/graphql').WebSessionQuery>>[0]['data']>;

function Live({ data, refetch }: { data: Data; refetch(): void }) {
  const app = useApp();
  const client = useClient();
  const s = data.session!;
  const [live, setLive] = useState({ state: s.state, balance: s.balanceSats });
  const chat = useChat(s.messages.edges.map((e) => e.node));
  const [sent, send] = useMutation(Send);
  const [toppedUp, topUp] = useMutation(TopUp);
  const [settleError, setSettleError] = useState('');
  const lastState = useRef(s.state);

  useEffect(
    () =>
      client.subscription(SessionEvents, { id: s.id }).subscribe((r) => {
        const e = r.data?.sessionEvents;
        if (!e) return;
        if (e.__typename === 'SessionStateChanged') {
          setLive({ state: e.state, balance: e.balanceSats });
          // A new state may bring a new invoice (top-up) or drop one (paid): read the session again.
          if (e.state !== lastState.current) refetch();
          lastState.current = e.state;
        } else if (e.__typename === 'CostDebited') setLive((l) => ({ ...l, balance: e.balanceAfterSats }));
        else chat.apply(e);
      }).unsubscribe,
    [s.id],
  );

  const deposit = s.invoices?.edges[0]?.node;
  const invoice = live.state === 'AWAITING_PAYMENT' ? deposit : (toppedUp.data?.topUpSession.invoice ?? s.pendingTopUp);
  const showInvoice = invoice && (live.state === 'AWAITING_PAYMENT' || s.pendingTopUp || toppedUp.data);

  async function simulate(paymentHash: string) {
    setSettleError('');
    const r = await client.mutation(SettleDev, { input: { paymentHash } }).toPromise();
    if (r.error) setSettleError(errorText(r.error));
  }

  return (
    <main class="room">
      <header>
        <h2>Paid session</h2>
        <dl class="session-state">
          <dt>State</dt>
          <dd>
            <span data-testid="session-state" data-state={live.state} role="status">{STATE_TEXT[live.state]}</span>
          </dd>
          <dt>Balance</dt>
          <dd data-testid="session-balance">{live.balance} sats</dd>
          <dt>Minimum</dt>
          <dd>{s.minimumBalanceSats} sats</dd>
        </dl>
      </header>
      {showInvoice && invoice && (
        <Invoice paymentRequest={invoice.paymentRequest} amountSats={invoice.amountSats}>
          {app.devPayments && <button onClick={() => simulate(invoice.paymentHash)}>Simulate payment (dev)</button>}
          {settleError && <p role="alert">{settleError}</p>}
        </Invoice>
      )}
      {(live.state === 'ACTIVE' || live.state === 'PAUSED') && !s.pendingTopUp && !toppedUp.data && (
        <form
          aria-label="Top up"
          onSubmit={async (e) => {
            e.preventDefault();
            const amountSats = Number(new FormData(e.currentTarget as HTMLFormElement).get('amount'));
            await topUp({ input: { sessionId: s.id, amountSats } });
          }}
        >
          <label>
            Top up (sats) <input name="amount" type="number" min={1} required value="500" />
          </label>
          <button type="submit">Top up</button>
          {toppedUp.error && <p role="alert">{errorText(toppedUp.error)}</p>}
        </form>
      )}
      <ChatLog messages={chat.messages} />
      <ChatComposer
        models={data.models.map((m) => m.name)}
        streaming={chat.streaming}
        error={sent.error}
        disabled={live.state !== 'ACTIVE'}
        onSend={async (content, model, clientMsgId) => {
          const r = await send({ input: { sessionId: s.id, content, model, clientMsgId } });
          if (r.data) {
            chat.add(r.data.sendSessionMessage.userMessage);
            chat.add(r.data.sendSessionMessage.assistantMessage);
          }
          return !r.error;
        }}
      />
    </main>
  );
}

const SettleDev = graphql(`
  mutation WebSettleDevInvoice($input: SettleDevInvoiceInput!) { settleDevInvoice(input: $input) { id state } }
`);
