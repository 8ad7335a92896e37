import { graphql } from '../gql/index.ts';
import type { Auth } from './client.ts';
import type { TestServer } from './server.ts';

const Open = graphql(`
  mutation PaidHelperOpen($input: OpenPaidSessionInput!) {
    openPaidSession(input: $input) {
      token
      session { id state balanceSats expiresAt }
      invoice { id kind state amountSats paymentHash paymentRequest expiresAt }
    }
  }
`);
const Settle = graphql(`
  mutation PaidHelperSettle($input: SettleDevInvoiceInput!) {
    settleDevInvoice(input: $input) { id state paidAt session { id state balanceSats } }
  }
`);
const TopUp = graphql(`
  mutation PaidHelperTopUp($input: TopUpSessionInput!) {
    topUpSession(input: $input) { invoice { id kind state amountSats paymentHash } session { id state balanceSats } }
  }
`);

/** Opens a prepaid session (anonymous unless `auth` says otherwise). */
export async function openSession(server: TestServer, amountSats = 1000, auth: Auth = {}, threadId?: string) {
  const { openPaidSession } = await server.ok(Open, { input: { amountSats, threadId } }, auth);
  return openPaidSession;
}

export async function settle(server: TestServer, paymentHash: string) {
  return (await server.ok(Settle, { input: { paymentHash } })).settleDevInvoice;
}

/** Opens a session and pays its deposit with the dev backend. */
export async function paidSession(server: TestServer, amountSats = 1000, auth: Auth = {}) {
  const opened = await openSession(server, amountSats, auth);
  await settle(server, opened.invoice.paymentHash);
  return opened;
}

export async function topUp(server: TestServer, token: string, sessionId: string, amountSats: number) {
  return (await server.ok(TopUp, { input: { sessionId, amountSats } }, { token })).topUpSession;
}

export { Open as OpenPaidSessionDoc, Settle as SettleDevInvoiceDoc, TopUp as TopUpSessionDoc };
