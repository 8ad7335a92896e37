import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserSkipReason, launchBrowser, screenshotsOnFailure, webBuilt } from './helpers/browser.ts';
import { orgWithMembers, PASSWORD, type TestUser } from './helpers/fixtures.ts';
import { startServer, type TestServer } from './helpers/server.ts';
import { graphql } from './gql/index.ts';

const CreateRoom = graphql(`mutation TrustedWebRoom($input: CreateRoomInput!) { createRoom(input: $input) { id } }`);
const Send = graphql(`mutation TrustedWebSend($input: SendMessageInput!) { sendMessage(input: $input) { seq } }`);

/** The hash codegen put in a test document (test/gql/persisted-documents.json is the test manifest). */
const hashOf = (doc: unknown) => ((doc as { __meta__?: { hash?: string } }).__meta__?.hash ?? '').replace(/^sha256:/, '');
const MANIFEST = 'test/gql/persisted-documents.json';

if (browserSkipReason) console.log(`web client under trusted documents: browser part skipped: ${browserSkipReason}`);

// Fixtures are made on a server without trusted documents; the trusted one shares its database.
describe.skipIf(!webBuilt)('the web client at /app when the server runs trusted documents only', () => {
  let setup: TestServer;
  let trusted: TestServer;
  let ada: TestUser;
  let bob: TestUser;
  let roomId: string;
  let browser: Browser | undefined;
  beforeAll(async () => {
    setup = await startServer();
    const o = await orgWithMembers(setup, 1);
    [ada, bob] = [o.owner, o.members[0]];
    roomId = (await setup.ok(CreateRoom, { input: { orgId: o.org.id, type: 'GROUP', name: 'launch', memberIds: [bob.id] } }, { token: ada.token })).createRoom.id;
    trusted = await startServer({ database: setup.database, overrides: { security: { trustedDocuments: MANIFEST } } });
  });
  afterAll(async () => {
    await browser?.close();
    await trusted?.stop();
    await setup?.stop();
  });

  it("tells the page to send hashes only when trusted documents are on, and accepts the client's own operations", async () => {
    const page = async (s: TestServer) => (await fetch(`${s.origin}/app/`)).text();
    expect(await page(trusted)).toContain('<meta name="confab-features" content="trusted-documents dev-payments">');
    expect(await page(setup)).toContain('<meta name="confab-features" content="dev-payments">');
    // The build ships its manifest; an operation of it, by hash, runs although the operator's manifest lacks it.
    const shipped = (await (await fetch(`${trusted.origin}/app/persisted-documents.json`)).json()) as Record<string, string>;
    const [hash] = Object.entries(shipped).find(([, doc]) => doc.startsWith('mutation WebLogin'))!;
    const res = await fetch(trusted.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ variables: { input: { email: ada.email, password: PASSWORD } }, extensions: { persistedQuery: { version: 1, sha256Hash: hash.replace(/^sha256:/, '') } } }),
    });
    const body = (await res.json()) as { data?: Record<string, { accessToken?: string }> };
    expect(Object.values(body.data ?? {})[0]?.accessToken).toEqual(expect.any(String));
    // Its text alone is still refused.
    const asText = await fetch(trusted.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: shipped[hash] }) });
    expect(asText.status).toBe(403);
  });

  it.skipIf(!!browserSkipReason)('signs in, opens a room, sends and receives live messages, all by hash', { timeout: 90_000 }, async () => {
    browser = await launchBrowser();
    const p = await (await browser.newContext()).newPage();
    screenshotsOnFailure(() => [p]);
    const refused: string[] = [];
    p.on('response', async (r) => {
      if (r.url().endsWith('/graphql') && r.status() >= 400) refused.push(`${r.status()} ${await r.text()}`);
    });
    await p.goto(`${trusted.origin}/app/`);
    await p.getByRole('tab', { name: 'Sign in' }).click();
    const form = p.getByRole('form', { name: 'Sign in' });
    await form.getByLabel('Email').fill(ada.email);
    await form.getByLabel('Password').fill(PASSWORD);
    await form.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('link', { name: 'Rooms' }).click();
    await p.getByRole('link', { name: /launch/ }).click();
    await p.getByRole('heading', { name: 'launch' }).waitFor();
    await p.getByLabel('Message', { exact: true }).fill('sent by hash');
    await p.getByLabel('Message', { exact: true }).press('Enter');
    await p.getByRole('log').getByText('sent by hash', { exact: true }).waitFor();
    // Bob's message reaches Ada's open room over the subscription (itself started by hash).
    const sent = await fetch(trusted.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${bob.token}` },
      body: JSON.stringify({ variables: { input: { roomId, content: 'live by hash' } }, extensions: { persistedQuery: { version: 1, sha256Hash: hashOf(Send) } } }),
    });
    expect(((await sent.json()) as { data?: { sendMessage?: { seq: number } } }).data?.sendMessage?.seq).toBe(2);
    await p.getByRole('log').getByText('live by hash', { exact: true }).waitFor();
    expect(refused).toEqual([]);
  });
});
