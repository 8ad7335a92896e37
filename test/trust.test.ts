import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';
import { graphql } from './gql/index.ts';
import { addMember, createOrg, registerUser, type TestUser } from './helpers/fixtures.ts';
import { paidSession } from './helpers/paid.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const MyTrust = graphql(`
  query MyTrust { me { id trust { tier score freePool screened } } }
`);
const Send = graphql(`
  mutation TrustSend($input: SendSessionMessageInput!) {
    sendSessionMessage(input: $input) { request { status screeningModel absorbedSats chargedSats costSats } }
  }
`);

const DAY = 24 * 3600 * 1000;
let now = Date.parse('2026-06-01T00:00:00Z');
let server: TestServer;
beforeAll(async () => {
  server = await startServer({
    clock: () => new Date(now),
    overrides: {
      pricing: { btcUsd: 100_000, models: { echo: { inputPer1kUsd: 1, outputPer1kUsd: 1 } } },
      screening: { enabled: true, model: 'echo', blockedWords: ['forbidden'] },
      freePool: { sats: 10_000, maxPerRequest: 5 },
      trust: { halfLifeDays: 10, pointsPerRequest: 1, establishedScore: 1, trustedScore: 2, eliteScore: 3, freePoolTier: 'TRUSTED', unscreenedTier: 'ELITE' },
    },
  });
});

const trustOf = async (user: TestUser) => (await server.ok(MyTrust, {}, { token: user.token })).me!.trust;

/** A user with a paid session, and a way to send on it. */
async function payer() {
  const user = await registerUser(server);
  const s = await paidSession(server, 5000, { token: user.token });
  const send = (content: string) => server.gql(Send, { input: { sessionId: s.session.id, content } }, { token: user.token });
  return { user, send };
}

describe('trust score and tiers', () => {
  it('starts NEW at 0: no free pool, screened', async () => {
    const { user } = await payer();
    expect(await trustOf(user)).toEqual({ tier: 'NEW', score: 0, freePool: false, screened: true });
  });

  it('rises with paid requests; screening rejections do not count; the tier opens the pool, then skips screening', async () => {
    const { user, send } = await payer();
    const first = await send('hello there');
    expect(first.errors).toBeUndefined();
    expect(first.data!.sendSessionMessage.request).toMatchObject({ status: 'COMPLETED', absorbedSats: 0 });
    expect(await trustOf(user)).toMatchObject({ tier: 'ESTABLISHED', score: 1, freePool: false, screened: true });

    const rejected = await send('something forbidden');
    expect(rejected.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'SCREENING_REJECTED' });
    expect(await trustOf(user)).toMatchObject({ tier: 'ESTABLISHED', score: 1 });

    expect((await send('second question')).errors).toBeUndefined();
    expect(await trustOf(user)).toMatchObject({ tier: 'TRUSTED', score: 2, freePool: true, screened: true });

    // TRUSTED: the pool pays a share, and screening still runs.
    const pooled = await send('third question');
    const r = pooled.data!.sendSessionMessage.request!;
    expect(r).toMatchObject({ status: 'COMPLETED', screeningModel: 'echo', absorbedSats: 5 });
    expect(r.chargedSats).toBe(r.costSats - 5);
    expect(await trustOf(user)).toMatchObject({ tier: 'ELITE', score: 3, freePool: true, screened: false });

    // ELITE: not screened at all, so a blocked word goes through.
    const unscreened = await send('now forbidden words pass');
    expect(unscreened.errors).toBeUndefined();
    expect(unscreened.data!.sendSessionMessage.request).toMatchObject({ status: 'COMPLETED', screeningModel: null });
  });

  it('decays over time (halving every half-life) and drops the tier with it', async () => {
    const { user, send } = await payer();
    for (let i = 0; i < 2; i++) expect((await send(`question ${i}`)).errors).toBeUndefined();
    expect(await trustOf(user)).toMatchObject({ tier: 'TRUSTED', score: 2, freePool: true });
    now += 10 * DAY;
    expect(await trustOf(user)).toMatchObject({ tier: 'ESTABLISHED', score: 1, freePool: false });
    // The pool no longer serves them.
    expect((await send('after a while')).data!.sendSessionMessage.request).toMatchObject({ absorbedSats: 0 });
    expect((await trustOf(user)).score).toBeCloseTo(2, 9);
    now += 20 * DAY;
    const later = await trustOf(user);
    expect(later.score).toBeCloseTo(0.5, 9);
    expect(later.tier).toBe('NEW');
  });

  it('is visible to the user only', async () => {
    const { user, send } = await payer();
    expect((await send('hello')).errors).toBeUndefined();
    // Trust is on me (Viewer) alone: a colleague who sees the user cannot even ask for it.
    const colleague = await registerUser(server);
    const org = await createOrg(server, user);
    await addMember(server, org.id, user, colleague);
    const seen = await server.gql<any, any>(`query($id: ID!) { node(id: $id) { ... on User { id trust { tier } } } }`, { id: user.id }, { token: colleague.token });
    expect(seen.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect((await server.ok(MyTrust, {}, { token: user.token })).me).toMatchObject({ id: user.id, trust: { tier: 'ESTABLISHED', score: 1 } });
    expect((await server.gql(MyTrust, {})).data?.me ?? null).toBeNull();
  });
});

describe('[trust] configuration', () => {
  const load = (trust: Record<string, unknown>, freePool: Record<string, unknown> = {}) =>
    loadConfig({ env: {}, file: false, overrides: { trust, freePool } as never });

  it('has documented defaults', () => {
    expect(load({}).trust).toEqual({
      halfLifeDays: 30,
      pointsPerRequest: 1,
      establishedScore: 5,
      trustedScore: 20,
      eliteScore: 50,
      freePoolTier: 'TRUSTED',
      unscreenedTier: 'ELITE',
    });
    expect(loadConfig({ env: { CONFAB_TRUST_FREE_POOL_TIER: 'elite', CONFAB_TRUST_HALF_LIFE_DAYS: '7' }, file: false }).trust).toMatchObject({
      freePoolTier: 'ELITE',
      halfLifeDays: 7,
    });
  });

  it('refuses bad settings, naming them', () => {
    expect(() => load({ establishedScore: 10, trustedScore: 10 })).toThrow(/tier scores must increase/);
    expect(() => load({ halfLifeDays: 0 })).toThrow(/trust\.halfLifeDays/);
    expect(() => load({ freePoolTier: 'GOLD' })).toThrow(/trust\.freePoolTier/);
    expect(() => load({ pointsPerRequest: -1 })).toThrow(ConfigError);
    expect(() => load({}, { trustedUsers: ['ada@example.com'] })).toThrow(/replaced by trust tiers/);
  });
});
