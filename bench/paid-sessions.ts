// Prepaid sessions: how long opening + paying takes, and how many paid chat turns per second one
// session sustains under concurrency (echo provider), with the balance invariant checked at the end.
// CONFAB_TEST_DB=postgresql runs it on PostgreSQL.
import { db } from '../src/db/client.ts';
import { startServer } from '../test/helpers/server.ts';

const OPEN = `mutation BenchOpen($input: OpenPaidSessionInput!) { openPaidSession(input: $input) { token session { id } invoice { paymentHash } } }`;
const SETTLE = `mutation BenchSettle($input: SettleDevInvoiceInput!) { settleDevInvoice(input: $input) { state } }`;
const SEND = `mutation BenchSend($input: SendSessionMessageInput!) { sendSessionMessage(input: $input) { request { chargedSats } } }`;

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

const server = await startServer({ overrides: { paidSessions: { openPerMinute: 0 } } });
try {
  const opens: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t0 = performance.now();
    const { openPaidSession } = await server.ok<any, any>(OPEN, { input: { amountSats: 1000 } });
    await server.ok(SETTLE, { input: { paymentHash: openPaidSession.invoice.paymentHash } });
    opens.push(performance.now() - t0);
  }
  console.log(`open + settle (sequential, 200): p50 ${pct(opens, 50).toFixed(1)} ms, p95 ${pct(opens, 95).toFixed(1)} ms`);

  const { openPaidSession: s } = await server.ok<any, any>(OPEN, { input: { amountSats: 10_000 } });
  await server.ok(SETTLE, { input: { paymentHash: s.invoice.paymentHash } });
  const total = 300;
  const concurrency = 10;
  let next = 0;
  let refused = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const r = await server.gql<any, any>(SEND, { input: { sessionId: s.session.id, content: `turn ${i}` } }, { token: s.token });
        if (r.errors) refused++;
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  const id = Buffer.from(s.session.id, 'base64').toString().split(':')[1];
  const row = await db.session.findUniqueOrThrow({ where: { id } });
  const charged = (await db.sessionRequest.aggregate({ where: { sessionId: id }, _sum: { chargedSats: true } }))._sum.chargedSats ?? 0;
  console.log(`paid turns (${total}, ${concurrency} concurrent, one session): ${(total / secs).toFixed(1)}/s, refused ${refused}`);
  console.log(`balance invariant: 10000 - ${charged} charged = ${10_000 - charged}, stored ${row.balanceSats} → ${10_000 - charged === row.balanceSats ? 'ok' : 'BROKEN'}`);
} finally {
  await server.stop();
}
