import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserSkipReason, launchBrowser, screenshotsOnFailure } from './helpers/browser.ts';
import { createOrg, PASSWORD, registerUser, type TestUser } from './helpers/fixtures.ts';
import { settle } from './helpers/paid.ts';
import { startServer, type TestServer } from './helpers/server.ts';
import { graphql } from './gql/index.ts';

const SessionInvoice = graphql(`
  query WebAiSessionInvoice($id: ID!) { session(id: $id) { invoices(first: 1) { edges { node { paymentHash } } } } }
`);

if (browserSkipReason) console.log(`web-ai browser suite skipped: ${browserSkipReason}`);

const ACCESS_TTL = 6;

describe.skipIf(!!browserSkipReason)('web client: threads and paid sessions in a real browser', () => {
  let server: TestServer;
  let browser: Browser;
  let user: TestUser;
  let page: Page;
  beforeAll(async () => {
    // Short-lived access tokens, so the client must refresh them as it goes; a slow echo model, so
    // the reply visibly streams word by word; dear tokens, so one long prompt pauses a small session.
    server = await startServer({ overrides: { auth: { accessTokenTtl: ACCESS_TTL }, providers: { echo: { delayMs: 60 } }, pricing: { markup: 20 } } });
    user = await registerUser(server, { name: 'Grace' });
    await createOrg(server, user, 'Labs');
    browser = await launchBrowser();
    page = await (await browser.newContext()).newPage();
    await page.goto(`${server.origin}/app/`);
    const form = page.getByRole('form', { name: 'Sign in' });
    await form.getByLabel('Email').fill(user.email);
    await form.getByLabel('Password').fill(PASSWORD);
    await form.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: 'Threads' }).waitFor();
  });
  afterAll(async () => {
    await browser?.close();
  });

  const stored = () => page.evaluate(() => JSON.parse(localStorage.getItem('confab.auth') ?? 'null'));

  it('a thread reply streams into the page token by token, after the access token was refreshed', { timeout: 60_000 }, async () => {
    screenshotsOnFailure(() => [page]);
    const before = await stored();
    await page.waitForTimeout(ACCESS_TTL * 1000 + 500); // the access token has now expired
    await page.getByRole('link', { name: 'Threads' }).click();
    await page.getByLabel('New thread title').fill('Ideas');
    await page.getByRole('button', { name: 'Create thread' }).click();
    await page.getByRole('heading', { name: 'Ideas' }).waitFor();
    expect((await stored()).refreshToken).not.toBe(before.refreshToken);

    const words = 'one two three four five six seven eight nine ten eleven twelve';
    await page.getByLabel('Prompt').fill(words);
    await page.getByLabel('Prompt').press('Enter');
    const reply = page.locator('li.chat.assistant').last();
    const seen = new Set<string>();
    await expect
      .poll(
        async () => {
          seen.add((await reply.locator('.content').textContent()) ?? '');
          return reply.getAttribute('data-status');
        },
        { timeout: 20_000, interval: 25 },
      )
      .toBe('COMPLETE');
    expect(await reply.locator('.content').textContent()).toBe(words);
    // Partial replies were on screen on the way, each a prefix of the next.
    const partial = [...seen].filter((t) => t && t !== words);
    expect(partial.length).toBeGreaterThanOrEqual(3);
    for (const t of partial) expect(words.startsWith(t.trimEnd())).toBe(true);
  });

  it('Stop cancels a streaming reply, which ends FAILED with what had arrived', { timeout: 60_000 }, async () => {
    screenshotsOnFailure(() => [page]);
    await page.getByLabel('Prompt').fill(Array.from({ length: 80 }, (_, i) => `w${i}`).join(' '));
    await page.getByLabel('Prompt').press('Enter');
    const reply = page.locator('li.chat.assistant').last();
    await reply.locator('.content', { hasText: 'w3' }).waitFor();
    await page.getByRole('button', { name: 'Stop' }).click();
    await page.locator('li.chat.assistant[data-status="FAILED"]').waitFor();
    expect(await reply.textContent()).toContain('stopped');
  });

  it('a paid session goes AWAITING_PAYMENT → ACTIVE on screen, spends, pauses and is topped up', { timeout: 90_000 }, async () => {
    screenshotsOnFailure(() => [page]);
    await page.getByRole('link', { name: 'Paid session' }).click();
    await page.getByLabel('Deposit (sats)').fill('100');
    await page.getByRole('button', { name: 'Open session' }).click();
    const state = page.getByTestId('session-state');
    await expect.poll(() => state.getAttribute('data-state')).toBe('AWAITING_PAYMENT');
    await page.getByRole('img', { name: /QR code of the Lightning invoice for 100 sats/ }).waitFor();
    const paymentRequest = await page.getByTestId('payment-request').inputValue();
    expect(paymentRequest).toMatch(/^lnbcrt/);

    // Paid from elsewhere (a wallet): the page hears it live.
    const sessionId = page.url().split('/').pop()!;
    const data = await server.ok(SessionInvoice, { id: sessionId }, { token: (await stored()).accessToken });
    await settle(server, data.session!.invoices!.edges[0]!.node.paymentHash);
    await expect.poll(() => state.getAttribute('data-state'), { timeout: 15_000 }).toBe('ACTIVE');
    await page.getByTestId('session-balance').filter({ hasText: '100 sats' }).waitFor();

    // A long prompt costs more than the balance: it is charged and the session pauses.
    await page.getByLabel('Prompt').fill(Array.from({ length: 60 }, (_, i) => `word${i}`).join(' '));
    await page.getByLabel('Prompt').press('Enter');
    await expect.poll(() => state.getAttribute('data-state'), { timeout: 20_000 }).toBe('PAUSED');
    const balance = Number((await page.getByTestId('session-balance').textContent())!.split(' ')[0]);
    expect(balance).toBeLessThan(100);

    // Top up, and pay with the dev backend's button.
    await page.getByLabel('Top up (sats)').fill('500');
    await page.getByRole('button', { name: 'Top up' }).click();
    await page.getByRole('img', { name: /invoice for 500 sats/ }).waitFor();
    await page.getByRole('button', { name: 'Simulate payment (dev)' }).click();
    await expect.poll(() => state.getAttribute('data-state'), { timeout: 15_000 }).toBe('ACTIVE');
    await page.getByTestId('session-balance').filter({ hasText: `${balance + 500} sats` }).waitFor();
  });
});
