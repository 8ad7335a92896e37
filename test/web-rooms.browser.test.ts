import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserSkipReason, launchBrowser, screenshotsOnFailure } from './helpers/browser.ts';
import { PASSWORD } from './helpers/fixtures.ts';
import { startServer, type TestServer } from './helpers/server.ts';
import { tcpProxy, type TcpProxy } from './helpers/tcp-proxy.ts';

if (browserSkipReason) console.log(`web-rooms browser suite skipped: ${browserSkipReason}`);

/** Signs up through the form and lands on the org page (a new user has no org). */
async function signUp(page: Page, origin: string, name: string, email: string) {
  await page.goto(`${origin}/app/`);
  await page.getByRole('tab', { name: 'Sign up' }).click();
  const form = page.getByRole('form', { name: 'Sign up' });
  await form.getByLabel('Name').fill(name);
  await form.getByLabel('Email').fill(email);
  await form.getByLabel('Password').fill(PASSWORD);
  await form.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('heading', { name: 'New organization' }).waitFor();
}

const seqsOn = (page: Page) => page.locator('[role=log] li[data-seq]').evaluateAll((els) => els.map((e) => Number((e as HTMLElement).dataset.seq)));
const textsOn = (page: Page) => page.locator('[role=log] li[data-seq] .content').allTextContents();

describe.skipIf(!!browserSkipReason)('web client: rooms in a real browser', () => {
  let server: TestServer;
  let proxy: TcpProxy;
  let browser: Browser;
  beforeAll(async () => {
    server = await startServer({ overrides: { realtime: { presenceGraceMs: 300 } } });
    // Bob's browser reaches the server through a proxy the test can cut, as a dropped network would.
    proxy = await tcpProxy(server.port);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  // Skipped: after the integration of this stop the sign-up form never reaches "New organization" in CI (see the
  // closing note of the stop); the room flow itself passed before the merge.
  it('two people sign up, share an org and a room, chat live, and one comes back from a dropped connection with no gap', { timeout: 120_000 }, async () => {
    const ada = await (await browser.newContext()).newPage();
    const bob = await (await browser.newContext()).newPage();
    screenshotsOnFailure(() => [ada, bob]);
    const stamp = Date.now().toString(36);
    const bobEmail = `bob-${stamp}@example.com`;

    await signUp(ada, server.origin, 'Ada', `ada-${stamp}@example.com`);
    const createOrg = ada.getByRole('form', { name: 'Create an organization' });
    await createOrg.getByLabel('Name').fill('Acme');
    await createOrg.getByLabel('Slug').fill(`acme-${stamp}`);
    await createOrg.getByRole('button', { name: 'Create' }).click();
    await ada.getByRole('link', { name: 'Organization' }).click();
    const invite = ada.getByRole('form', { name: 'Invite a member' });
    await invite.getByLabel('Email').fill(bobEmail);
    await invite.getByRole('button', { name: 'Invite' }).click();
    const token = (await ada.getByTestId('invite-token').textContent())!;
    expect(token).toMatch(/^cfi_/);

    await signUp(bob, proxy.url('http'), 'Bob', bobEmail);
    const accept = bob.getByRole('form', { name: 'Accept an invitation' });
    await accept.getByLabel('Invitation token').fill(token);
    await accept.getByRole('button', { name: 'Join' }).click();
    await bob.getByRole('combobox', { name: 'Organization' }).filter({ hasText: 'Acme' }).waitFor();

    await ada.getByRole('link', { name: 'Rooms' }).click();
    await ada.getByText('New room').click();
    const createRoom = ada.getByRole('form', { name: 'Create a room' });
    await createRoom.getByLabel('Room name').fill('launch');
    await createRoom.getByLabel('Bob').check();
    await createRoom.getByRole('button', { name: 'Create room' }).click();
    await ada.getByRole('heading', { name: 'launch' }).waitFor();

    const adaSays = async (text: string) => {
      await ada.getByLabel('Message', { exact: true }).fill(text);
      await ada.getByLabel('Message', { exact: true }).press('Enter');
      await ada.getByRole('log').getByText(text, { exact: true }).waitFor();
    };
    await adaSays('hello bob');

    // Bob's list (refreshed while open) shows the room with an unread badge, then he opens it.
    await bob.getByRole('link', { name: /launch/ }).getByLabel('1 unread').waitFor({ timeout: 15_000 });
    await bob.getByRole('link', { name: /launch/ }).click();
    await bob.getByRole('log').getByText('hello bob').waitFor();

    // Typing, a reply, a read receipt, presence.
    await bob.getByLabel('Message', { exact: true }).pressSequentially('hi ada', { delay: 20 });
    await ada.getByText('Bob is typing…').waitFor();
    await bob.getByLabel('Message', { exact: true }).press('Enter');
    await ada.getByRole('log').getByText('hi ada').waitFor();
    await bob.locator('li[data-seq="2"]').getByText('Seen by Ada').waitFor();
    await ada.locator('.room .members [aria-label="ONLINE"]').nth(1).waitFor();

    // React, edit and delete, seen live on the other side.
    await bob.locator('li[data-seq="1"]').getByRole('button', { name: 'React 👍' }).click();
    await ada.locator('li[data-seq="1"]').getByRole('button', { name: 'React 👍 (1)' }).waitFor();
    await ada.locator('li[data-seq="1"]').getByRole('button', { name: 'Edit' }).click();
    await ada.getByRole('textbox', { name: 'Edit message' }).fill('hello bob!');
    await ada.getByRole('textbox', { name: 'Edit message' }).press('Enter');
    await bob.locator('li[data-seq="1"]').getByText('hello bob!').waitFor();
    await bob.locator('li[data-seq="1"]').getByText('(edited)').waitFor();
    await adaSays('oops');
    await ada.locator('li[data-seq="3"]').getByRole('button', { name: 'Delete' }).click();
    await bob.locator('li[data-seq="3"]').getByText('Message deleted').waitFor();

    // Bob's connection drops; Ada goes on; Bob comes back and sees everything once, in order.
    await proxy.down();
    await bob.getByRole('status').filter({ hasText: 'Reconnecting…' }).waitFor();
    for (const n of [1, 2, 3]) await adaSays(`while you were away ${n}`);
    await proxy.up();
    await bob.getByRole('log').getByText('while you were away 3').waitFor({ timeout: 30_000 });
    await bob.getByRole('status').filter({ hasText: 'Connected' }).waitFor();
    await adaSays('welcome back');
    await bob.getByRole('log').getByText('welcome back').waitFor();

    expect(await seqsOn(bob)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(await seqsOn(ada)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(await textsOn(bob)).toEqual(['hello bob!', 'hi ada', 'Message deleted', 'while you were away 1', 'while you were away 2', 'while you were away 3', 'welcome back']);
  });
});
