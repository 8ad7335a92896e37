import * as nip19 from 'nostr-tools/nip19';
import { beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { subscribe } from './helpers/client.ts';
import { registerUser } from './helpers/fixtures.ts';
import { nostrChallenge, nostrKey, nostrToken, NostrVerifyDoc, signChallenge } from './helpers/nostr.ts';
import { OpenPaidSessionDoc, settle } from './helpers/paid.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const SessionTrust = graphql(`
  query NostrSessionTrust($id: ID!) { session(id: $id) { id trustTier nostrPubkey } }
`);
const Send = graphql(`
  mutation NostrSend($input: SendSessionMessageInput!) {
    sendSessionMessage(input: $input) { request { status absorbedSats chargedSats screeningModel } }
  }
`);
const Me = graphql(`query NostrMe { me { id } }`);

let now = Date.now();
let server: TestServer;
beforeAll(async () => {
  server = await startServer({
    clock: () => new Date(now),
    overrides: {
      nostr: { challengeTtlSec: 300, tokenTtlSec: 600 },
      pricing: { btcUsd: 100_000, models: { echo: { inputPer1kUsd: 1, outputPer1kUsd: 1 } } },
      screening: { enabled: true, model: 'echo', blockedWords: ['forbidden'] },
      freePool: { sats: 10_000, maxPerRequest: 5 },
      trust: { halfLifeDays: 30, pointsPerRequest: 1, establishedScore: 1, trustedScore: 2, eliteScore: 3, freePoolTier: 'TRUSTED', unscreenedTier: 'ELITE' },
    },
  });
});

const nowSec = () => Math.floor(now / 1000);
const verify = (event: unknown) => server.gql(NostrVerifyDoc, { input: { event } });
const refusal = async (event: unknown) => (await verify(event)).errors?.[0]?.extensions;
const headers = (token: string) => ({ headers: { 'x-nostr-token': token } });

/** An anonymous prepaid session, opened with these headers and paid. */
async function open(extra: { token?: string; headers?: Record<string, string> } = {}) {
  const { openPaidSession } = await server.ok(OpenPaidSessionDoc, { input: { amountSats: 5000 } }, extra);
  await settle(server, openPaidSession.invoice.paymentHash);
  const trust = async () => (await server.ok(SessionTrust, { id: openPaidSession.session.id }, { token: openPaidSession.token })).session!;
  const send = (content: string) => server.gql(Send, { input: { sessionId: openPaidSession.session.id, content } }, { token: openPaidSession.token });
  return { ...openPaidSession, trust, send };
}

describe('proving a Nostr key', () => {
  it('signs a challenge into a short-lived token for the key', async () => {
    const key = nostrKey();
    const { challenge, expiresAt } = await nostrChallenge(server);
    expect(Date.parse(expiresAt)).toBe((nowSec() + 300) * 1000);
    const res = await server.ok(NostrVerifyDoc, { input: { event: signChallenge(key.secretKey, challenge, { createdAt: nowSec() }) } });
    expect(res.verifyNostrChallenge.pubkey).toBe(key.pubkey);
    expect(Date.parse(res.verifyNostrChallenge.expiresAt)).toBe((nowSec() + 600) * 1000);
  });

  it('refuses a bad signature, another kind, a challenge it did not issue, and malformed events', async () => {
    const key = nostrKey();
    const { challenge } = await nostrChallenge(server);
    const signed = signChallenge(key.secretKey, challenge, { createdAt: nowSec() });
    expect(await refusal({ ...signed, content: 'changed after signing' })).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'NOSTR_SIGNATURE_INVALID' });
    expect(await refusal({ ...signed, sig: signChallenge(nostrKey().secretKey, challenge).sig })).toMatchObject({ reason: 'NOSTR_SIGNATURE_INVALID' });
    expect(await refusal(signChallenge(key.secretKey, challenge, { kind: 1 }))).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'NOSTR_EVENT_INVALID' });
    const forged = `${challenge.slice(0, challenge.lastIndexOf('.'))}.${'A'.repeat(32)}`;
    expect(await refusal(signChallenge(key.secretKey, forged))).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'NOSTR_CHALLENGE_INVALID' });
    expect(await refusal(signChallenge(key.secretKey, 'made-up'))).toMatchObject({ reason: 'NOSTR_CHALLENGE_INVALID' });
    expect(await refusal(signChallenge(key.secretKey, '', { tags: [] }))).toMatchObject({ reason: 'NOSTR_CHALLENGE_INVALID' });
    expect(await refusal({ ...signed, pubkey: 'not hex' })).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(await refusal('a string')).toMatchObject({ code: 'BAD_USER_INPUT' });
    // None of these used the challenge up: its real answer still works.
    expect((await verify(signed)).errors).toBeUndefined();
  });

  it('binds a challenge to the key named for it: another key cannot answer it', async () => {
    const [ann, eve] = [nostrKey(), nostrKey()];
    const { challenge } = await nostrChallenge(server, ann.pubkey);
    expect(await refusal(signChallenge(eve.secretKey, challenge))).toMatchObject({ reason: 'NOSTR_CHALLENGE_INVALID' });
    expect((await verify(signChallenge(ann.secretKey, challenge))).errors).toBeUndefined();
    // Named as an npub (NIP-19) too.
    const byNpub = await nostrChallenge(server, nip19.npubEncode(eve.pubkey));
    expect(await refusal(signChallenge(ann.secretKey, byNpub.challenge))).toMatchObject({ reason: 'NOSTR_CHALLENGE_INVALID' });
    expect((await verify(signChallenge(eve.secretKey, byNpub.challenge))).errors).toBeUndefined();
    const res = await server.gql(graphql(`mutation NostrBadKey($input: CreateNostrChallengeInput!) { createNostrChallenge(input: $input) { challenge } }`), { input: { pubkey: 'npub1nope' } });
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
  });

  it('refuses an expired challenge, and an event not created within its lifetime', async () => {
    const key = nostrKey();
    const early = await nostrChallenge(server);
    expect(await refusal(signChallenge(key.secretKey, early.challenge, { createdAt: nowSec() - 3600 }))).toMatchObject({ reason: 'NOSTR_EVENT_TIME' });
    expect(await refusal(signChallenge(key.secretKey, early.challenge, { createdAt: nowSec() + 3600 }))).toMatchObject({ reason: 'NOSTR_EVENT_TIME' });
    const signed = signChallenge(key.secretKey, early.challenge, { createdAt: nowSec() });
    const saved = now;
    now += 301_000;
    try {
      expect(await refusal(signed)).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'NOSTR_CHALLENGE_EXPIRED' });
    } finally {
      now = saved;
    }
  });

  it('answers each challenge once, also when the answers race', async () => {
    const key = nostrKey();
    const { challenge } = await nostrChallenge(server);
    const signed = signChallenge(key.secretKey, challenge, { createdAt: nowSec() });
    expect((await verify(signed)).errors).toBeUndefined();
    expect(await refusal(signed)).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'NOSTR_CHALLENGE_USED' });

    const raced = await nostrChallenge(server);
    // Different events (two keys, two times) for one challenge, all at once.
    const answers = [0, 1, 2, 3, 4, 5].map((i) => signChallenge((i % 2 ? key : nostrKey()).secretKey, raced.challenge, { createdAt: nowSec() - i }));
    const results = await Promise.all(answers.map(verify));
    expect(results.filter((r) => !r.errors)).toHaveLength(1);
    for (const r of results.filter((x) => x.errors)) expect(r.errors![0].extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'NOSTR_CHALLENGE_USED' });
  });
});

describe('x-nostr-token', () => {
  it('binds the key to an anonymous session; without one the session is ANONYMOUS', async () => {
    const { token, pubkey } = await nostrToken(server);
    const bound = await open(headers(token));
    expect(await bound.trust()).toMatchObject({ trustTier: 'NEW', nostrPubkey: pubkey });
    const plain = await open();
    expect(await plain.trust()).toMatchObject({ trustTier: 'ANONYMOUS', nostrPubkey: null });
  });

  it("carries the key's trust across sessions, and the pool and screening follow its tier", async () => {
    const { token, key } = await nostrToken(server);
    const first = await open(headers(token));
    for (const q of ['one', 'two']) expect((await first.send(q)).data?.sendSessionMessage.request).toMatchObject({ status: 'COMPLETED', absorbedSats: 0 });
    expect(await first.trust()).toMatchObject({ trustTier: 'TRUSTED' });

    // A later session with a fresh token for the same key starts TRUSTED: the pool pays a share.
    const again = await nostrToken(server, key);
    const second = await open(headers(again.token));
    expect(await second.trust()).toMatchObject({ trustTier: 'TRUSTED', nostrPubkey: key.pubkey });
    expect((await second.send('three')).data?.sendSessionMessage.request).toMatchObject({ status: 'COMPLETED', absorbedSats: 5, screeningModel: 'echo' });
    // ELITE now: not screened.
    expect(await first.trust()).toMatchObject({ trustTier: 'ELITE' });
    const unscreened = await second.send('forbidden words pass now');
    expect(unscreened.errors).toBeUndefined();
    expect(unscreened.data?.sendSessionMessage.request).toMatchObject({ screeningModel: null });

    // An anonymous session without a key gets none of it: screened, no pool.
    const plain = await open();
    expect((await plain.send('forbidden')).errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'SCREENING_REJECTED' });
    expect((await plain.send('hello')).data?.sendSessionMessage.request).toMatchObject({ absorbedSats: 0 });
  });

  it("counts a signed-in owner's session for the user, not the key", async () => {
    const user = await registerUser(server);
    const { token, key } = await nostrToken(server);
    const owned = await open({ token: user.token, headers: { 'x-nostr-token': token } });
    expect(await owned.trust()).toMatchObject({ trustTier: 'NEW', nostrPubkey: key.pubkey });
    expect((await owned.send('hello')).errors).toBeUndefined();
    expect(await owned.trust()).toMatchObject({ trustTier: 'ESTABLISHED' });
    const keyOnly = await open(headers((await nostrToken(server, key)).token));
    expect(await keyOnly.trust()).toMatchObject({ trustTier: 'NEW' });
  });

  it('refuses a request carrying a bad or expired token, whole', async () => {
    const bad = await server.gql(OpenPaidSessionDoc, { input: { amountSats: 500 } }, headers('garbage'));
    expect(bad.data ?? null).toBeNull();
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'NOSTR_TOKEN_INVALID' });
    // Any operation, not only the ones that use the key.
    expect((await server.gql(Me, {}, headers('garbage'))).errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED' });
    // An access token is not a Nostr token.
    const user = await registerUser(server);
    expect((await server.gql(Me, {}, headers(user.token))).errors?.[0]?.extensions).toMatchObject({ reason: 'NOSTR_TOKEN_INVALID' });

    const { token } = await nostrToken(server);
    const saved = now;
    now += 601_000;
    try {
      const expired = await server.gql(OpenPaidSessionDoc, { input: { amountSats: 500 } }, headers(token));
      expect(expired.data ?? null).toBeNull();
      expect(expired.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'NOSTR_TOKEN_EXPIRED' });
    } finally {
      now = saved;
    }
  });

  it('is not a login', async () => {
    const { token } = await nostrToken(server);
    const res = await server.gql(Me, {}, { token });
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(res.data?.me ?? null).toBeNull();
    const opened = await server.gql(OpenPaidSessionDoc, { input: { amountSats: 500 } }, { token });
    expect(opened.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED' });
  });
});

describe('nostrToken over graphql-ws', () => {
  it('binds the key from connectionParams', async () => {
    const { token, pubkey } = await nostrToken(server);
    const client = server.ws({ connectionParams: { nostrToken: token } });
    const res = await subscribe(client, OpenPaidSessionDoc, { input: { amountSats: 500 } }).next();
    expect(res.errors).toBeUndefined();
    const { session, token: sessionToken } = res.data!.openPaidSession;
    expect((await server.ok(SessionTrust, { id: session.id }, { token: sessionToken })).session).toMatchObject({ nostrPubkey: pubkey, trustTier: 'NEW' });
  });

  it('closes the connection (4403) for a bad token, and refuses operations once it has expired', async () => {
    const client = server.ws({ connectionParams: { nostrToken: 'garbage' } });
    const closed = new Promise<number>((resolve) => client.on('closed', (e: any) => resolve(e.code)));
    const sub = subscribe(client, Me, {});
    expect(await closed).toBe(4403);
    await expect(sub.ended).resolves.toBeDefined();

    const { token } = await nostrToken(server);
    const live = server.ws({ connectionParams: { nostrToken: token } });
    expect((await subscribe(live, Me, {}).next()).errors).toBeUndefined();
    const saved = now;
    now += 601_000;
    try {
      const late = subscribe(live, OpenPaidSessionDoc, { input: { amountSats: 500 } });
      expect((await late.rejection())).toMatchObject({ extensions: { code: 'UNAUTHENTICATED', reason: 'NOSTR_TOKEN_EXPIRED' } });
    } finally {
      now = saved;
    }
  });
});
