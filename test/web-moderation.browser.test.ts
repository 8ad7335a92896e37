import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserSkipReason, launchBrowser, screenshotsOnFailure, signedInPage } from './helpers/browser.ts';
import { PASSWORD, addMember, createOrg, registerUser, type TestUser } from './helpers/fixtures.ts';
import { startFakeSmtp, type FakeSmtp } from './helpers/fake-smtp.ts';
import { png } from './helpers/png.ts';
import { startServer, type TestServer } from './helpers/server.ts';

if (browserSkipReason) console.log(`web-moderation browser suite skipped: ${browserSkipReason}`);

const CreateRoom = /* GraphQL */ `
  mutation ($input: CreateRoomInput!) { createRoom(input: $input) { id } }
`;
const Send = /* GraphQL */ `
  mutation ($input: SendMessageInput!) { sendMessage(input: $input) { id } }
`;
const Messages = /* GraphQL */ `
  query ($id: ID!) { room(id: $id) { messages(last: 20) { edges { node { id content } } } } }
`;
const Login = /* GraphQL */ `
  mutation ($input: LoginInput!) { login(input: $input) { accessToken } }
`;
const ReportMessage = /* GraphQL */ `
  mutation ($input: ReportMessageInput!) { reportMessage(input: $input) { id } }
`;

/** The message on a page whose text is `text` (the list item of the room's log). */
const messageOn = (page: Page, text: string) => page.getByRole('log', { name: 'Messages' }).getByRole('listitem').filter({ hasText: text });

describe.skipIf(!!browserSkipReason)('web client: moderation and account settings in a real browser', () => {
  let server: TestServer;
  let browser: Browser;
  let ada: TestUser;
  let bob: TestUser;
  let cy: TestUser;
  let general: string;
  beforeAll(async () => {
    server = await startServer();
    browser = await launchBrowser();
    ada = await registerUser(server, { name: 'Ada' });
    bob = await registerUser(server, { name: 'Bob' });
    cy = await registerUser(server, { name: 'Cy' });
    const org = await createOrg(server, ada);
    await addMember(server, org.id, ada, bob);
    await addMember(server, org.id, ada, cy);
    const room = async (name: string, memberIds: string[]) =>
      (await server.ok<any, any>(CreateRoom, { input: { orgId: org.id, type: 'GROUP', name, memberIds } }, { token: ada.token })).createRoom.id as string;
    general = await room('general', [bob.id, cy.id]);
    await room('other', [bob.id]);
    await server.ok(Send, { input: { roomId: general, content: 'welcome, be kind' } }, { token: ada.token });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('mute, unmute, report, ban by resolving a report, pin, block, freeze; then profile and password in Settings', { timeout: 120_000 }, async () => {
    const adaPage = await signedInPage(await browser.newContext(), server.origin, ada, `/app/rooms/${general}`);
    const bobPage = await signedInPage(await browser.newContext(), server.origin, bob, `/app/rooms/${general}`);
    screenshotsOnFailure(() => [adaPage, bobPage]);
    adaPage.on('dialog', (d) => void d.accept());
    await adaPage.getByRole('heading', { name: 'general' }).waitFor();
    await bobPage.getByRole('heading', { name: 'general' }).waitFor();
    // A member sees no moderation controls; the room's OWNER does.
    expect(await bobPage.getByRole('group', { name: 'Room settings' }).count()).toBe(0);
    await adaPage.getByRole('group', { name: 'Room settings' }).getByRole('button', { name: 'Freeze', exact: true }).waitFor();
    // This server mails nothing: nobody is asked to verify their address.
    expect(await adaPage.getByText(/Confirm your email address/).count()).toBe(0);

    // Ada mutes Bob for 10 minutes: Bob's composer gives way to why he cannot send.
    await adaPage.getByRole('button', { name: 'Manage members' }).click();
    const bobRow = adaPage.getByRole('region', { name: 'Room members' }).getByRole('listitem', { name: 'Bob' });
    await bobRow.getByRole('button', { name: 'Mute', exact: true }).click();
    await bobRow.getByRole('form', { name: 'Mute Bob' }).getByLabel('Duration').selectOption({ label: '10 minutes' });
    await bobRow.getByRole('button', { name: 'Mute Bob' }).click();
    await bobPage.getByText(/You are muted in this room until/).waitFor();
    expect(await bobPage.getByLabel('Message', { exact: true }).count()).toBe(0);
    await bobRow.getByText(/muted until/).waitFor();

    // Ada unmutes him: the composer is back and his message reaches Ada.
    await bobRow.getByRole('button', { name: 'Unmute', exact: true }).click();
    await bobPage.getByLabel('Message', { exact: true }).fill('sorry about that');
    await bobPage.getByLabel('Message', { exact: true }).press('Enter');
    await messageOn(adaPage, 'sorry about that').waitFor();

    // Ada watches the reports queue (live: a report notifies the org's admins).
    await adaPage.getByRole('link', { name: 'Reports', exact: true }).click();
    await adaPage.getByText('No reports.').waitFor();

    // Cy posts spam; Bob reports it from the message.
    await server.ok(Send, { input: { roomId: general, content: 'buy cheap watches' } }, { token: cy.token });
    const spam = messageOn(bobPage, 'buy cheap watches');
    await spam.getByRole('button', { name: 'Report', exact: true }).click();
    await spam.getByLabel('Why are you reporting this message?').fill('spam');
    await spam.getByRole('button', { name: 'Send report' }).click();
    await spam.getByText('Reported').waitFor();

    // It shows in Ada's queue; she deletes the message, and Bob sees it go.
    const cyReport = adaPage.getByRole('listitem', { name: "Report on Cy's message" });
    await cyReport.getByText('buy cheap watches').waitFor();
    await cyReport.getByText('spam').waitFor();
    await cyReport.getByRole('button', { name: 'Delete message' }).click();
    await messageOn(bobPage, 'Message deleted').waitFor();
    await expect.poll(() => cyReport.count()).toBe(0);

    // Cy reports Bob's message (through the API); Ada resolves it by banning its author.
    const { room } = await server.ok<any, any>(Messages, { id: general }, { token: cy.token });
    const bobsMessage = room.messages.edges.find((e: any) => e.node.content === 'sorry about that').node.id;
    await server.ok(ReportMessage, { input: { messageId: bobsMessage, reason: 'rude' } }, { token: cy.token });
    const bobReport = adaPage.getByRole('listitem', { name: "Report on Bob's message" });
    await bobReport.getByText('rude').waitFor();
    await bobReport.getByRole('button', { name: 'Ban author' }).click();

    // Bob's view says so, and the room leaves his list.
    await bobPage.getByRole('alert').getByText('You were banned from this room (general).').waitFor();
    await expect.poll(() => bobPage.getByRole('navigation', { name: 'Rooms', exact: true }).or(bobPage.getByRole('complementary', { name: 'Rooms', exact: true })).getByRole('link', { name: /general/ }).count()).toBe(0);

    // The resolved report is under its status, and the audit log has the ban.
    await adaPage.getByLabel('Status').selectOption({ label: 'Author banned' });
    await adaPage.getByRole('listitem', { name: "Report on Bob's message" }).getByText(/Author banned by Ada/).waitFor();
    await adaPage.getByRole('link', { name: 'Audit log', exact: true }).click();
    await adaPage.getByRole('table', { name: 'Audit log', exact: true }).getByText('room.member.ban').first().waitFor();

    // Ada pins her welcome message: it is listed as pinned.
    await adaPage.getByRole('link', { name: 'Rooms', exact: true }).click();
    await adaPage.getByRole('link', { name: /general/ }).click();
    await messageOn(adaPage, 'welcome, be kind').getByRole('button', { name: 'Pin', exact: true }).click();
    const pinned = adaPage.getByRole('region', { name: 'Pinned messages' });
    await pinned.getByText('welcome, be kind').waitFor();
    await messageOn(adaPage, 'welcome, be kind').getByRole('button', { name: 'Unpin', exact: true }).waitFor();

    // Ada blocks Cy: Cy's messages collapse for her (and only on request show), and Settings lists Cy with Unblock.
    await server.ok(Send, { input: { roomId: general, content: 'hi all' } }, { token: cy.token });
    await messageOn(adaPage, 'hi all').waitFor();
    await adaPage.getByRole('button', { name: 'Manage members' }).click();
    await adaPage.getByRole('region', { name: 'Room members' }).getByRole('listitem', { name: 'Cy' }).getByRole('button', { name: 'Block', exact: true }).click();
    const hidden = messageOn(adaPage, 'Message from a blocked user');
    await expect.poll(() => hidden.count()).toBeGreaterThan(0);
    expect(await messageOn(adaPage, 'hi all').count()).toBe(0);
    await hidden.last().getByRole('button', { name: 'Show' }).click();
    await messageOn(adaPage, 'hi all').waitFor();
    await adaPage.getByRole('link', { name: 'Settings', exact: true }).click();
    await adaPage.getByRole('list', { name: 'Blocked people' }).getByRole('button', { name: 'Unblock Cy' }).click();
    await adaPage.getByText('You have not blocked anyone.').waitFor();

    // In the other room, Ada freezes it: Bob (a member) cannot send until she unfreezes it.
    await bobPage.getByRole('link', { name: /other/ }).click();
    await bobPage.getByRole('heading', { name: 'other' }).waitFor();
    await adaPage.getByRole('link', { name: 'Rooms', exact: true }).click();
    await adaPage.getByRole('link', { name: /other/ }).click();
    await adaPage.getByRole('heading', { name: 'other' }).waitFor();
    await adaPage.getByRole('button', { name: 'Freeze', exact: true }).click();
    await bobPage.getByText('This room is frozen: only moderators can send messages.').waitFor();
    await adaPage.getByRole('button', { name: 'Unfreeze', exact: true }).click();
    await bobPage.getByLabel('Message', { exact: true }).waitFor();

    // Bob changes his name and avatar in Settings; Ada sees them when she opens the room again.
    await bobPage.getByRole('link', { name: 'Settings', exact: true }).click();
    const profile = bobPage.getByRole('form', { name: 'Profile' });
    await profile.getByLabel('Name').fill('Robert');
    await profile.getByLabel('Avatar').setInputFiles({ name: 'me.png', mimeType: 'image/png', buffer: png(32, 32) });
    await profile.getByRole('button', { name: 'Save profile' }).click();
    await bobPage.getByText('Profile saved.').waitFor();
    await bobPage.getByRole('img', { name: "Robert's avatar" }).waitFor();
    await adaPage.getByRole('link', { name: /general/ }).click();
    await adaPage.getByRole('heading', { name: 'general' }).waitFor();
    await adaPage.getByRole('link', { name: /other/ }).click();
    await adaPage.getByRole('list', { name: 'Members' }).getByText('Robert').waitFor();
    await adaPage.getByRole('button', { name: 'Manage members' }).click();
    const avatar = adaPage.getByRole('region', { name: 'Room members' }).getByRole('img', { name: "Robert's avatar" });
    await expect.poll(() => avatar.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth), { timeout: 15_000 }).toBe(32);

    // Bob changes his password; after signing out, the old one is refused and the new one works.
    const password = bobPage.getByRole('form', { name: 'Change password' });
    await password.getByLabel('Current password').fill(PASSWORD);
    await password.getByLabel('New password').fill('a brand new secret');
    await password.getByRole('button', { name: 'Change password' }).click();
    await bobPage.getByText('Password changed.').waitFor();
    await bobPage.getByRole('button', { name: 'Sign out' }).click();
    const signIn = bobPage.getByRole('form', { name: 'Sign in' });
    await signIn.getByLabel('Email').fill(bob.email);
    await signIn.getByLabel('Password').fill(PASSWORD);
    await signIn.getByRole('button', { name: 'Sign in' }).click();
    await signIn.getByRole('alert').waitFor();
    await signIn.getByLabel('Password').fill('a brand new secret');
    await signIn.getByRole('button', { name: 'Sign in' }).click();
    await bobPage.getByRole('banner').getByText('Robert').waitFor();
    await bobPage.getByRole('link', { name: 'Rooms', exact: true }).click();
    await bobPage.getByRole('link', { name: /other/ }).click();
    await bobPage.getByRole('heading', { name: 'other' }).waitFor();
  });

  describe('mailed links', () => {
    let smtp: FakeSmtp;
    let mailing: TestServer;
    beforeAll(async () => {
      smtp = await startFakeSmtp();
      mailing = await startServer({ overrides: { mail: { smtpUrl: smtp.url, from: 'Confab <no-reply@confab.test>' } } });
    });
    afterAll(async () => {
      await mailing?.stop();
      await smtp?.stop();
    });

    it('the verification link confirms the address; "Forgot your password?" mails a link whose page sets a new one; the org is renamed and deleted', { timeout: 60_000 }, async () => {
      const dee = await registerUser(mailing, { name: 'Dee' });
      const page = await signedInPage(await browser.newContext(), mailing.origin, dee, '/app/settings');
      screenshotsOnFailure(() => [page]);
      // The server mails links, so an unverified user is asked to verify, in the banner and in Settings.
      await page.getByText(`Confirm your email address (${dee.email})`).waitFor();
      await page.getByText('not verified').waitFor();
      const verification = await smtp.next(dee.email, 'verify');
      await page.goto(verification.link!);
      await page.getByText('Your email address is confirmed.').waitFor();
      expect(page.url()).toBe(`${mailing.origin}/app/`); // the token left the address bar
      await page.getByRole('link', { name: 'Settings', exact: true }).click();
      await page.getByText('verified', { exact: true }).waitFor();
      expect(await page.getByText(/Confirm your email address/).count()).toBe(0);

      // Signed out, in another browser: ask for a reset link, open it, choose a new password, and be signed in.
      const anon = await (await browser.newContext()).newPage();
      screenshotsOnFailure(() => [page, anon]);
      await anon.goto(`${mailing.origin}/app/`);
      await anon.getByRole('button', { name: 'Forgot your password?' }).click();
      await anon.getByRole('form', { name: 'Reset your password' }).getByLabel('Email').fill(dee.email);
      await anon.getByRole('button', { name: 'Send reset link' }).click();
      await anon.getByText('If an account uses that address').waitFor();
      const reset = await smtp.next(dee.email, 'reset');
      await anon.goto(reset.link!);
      const form = anon.getByRole('form', { name: 'Choose a new password' });
      await form.getByLabel('New password').fill('reset by mail 123');
      await form.getByLabel('Repeat it').fill('reset by mail 123');
      await form.getByRole('button', { name: 'Set password' }).click();
      await anon.getByRole('banner').getByText('Dee').waitFor();
      expect(new URL(anon.url()).hash).toBe('');
      // The link works once.
      await anon.goto(reset.link!);
      await form.getByLabel('New password').fill('another one 1234');
      await form.getByLabel('Repeat it').fill('another one 1234');
      await form.getByRole('button', { name: 'Set password' }).click();
      await form.getByRole('alert').waitFor();

      // Her org's settings: rename it, then delete it, confirmed with its slug.
      const org = await createOrg(mailing, { ...dee, token: (await mailing.ok<any, any>(Login, { input: { email: dee.email, password: 'reset by mail 123' } })).login.accessToken }, 'Dee Co');
      await anon.getByRole('button', { name: 'Cancel' }).click();
      await anon.getByRole('link', { name: 'Organization', exact: true }).click();
      const settings = anon.getByRole('form', { name: 'Organization settings' });
      await settings.getByLabel('Name').fill('Dee & Co');
      await settings.getByRole('button', { name: 'Save settings' }).click();
      await settings.getByText('Settings saved.').waitFor();
      await anon.getByRole('banner').getByRole('option', { name: 'Dee & Co' }).waitFor({ state: 'attached' });
      const del = anon.getByRole('form', { name: 'Delete organization' });
      await del.getByLabel(/to confirm/).fill('not-the-slug');
      await del.getByRole('button', { name: 'Delete organization' }).click();
      await del.getByRole('alert').waitFor();
      await del.getByLabel(/to confirm/).fill(org.slug);
      await del.getByRole('button', { name: 'Delete organization' }).click();
      await expect.poll(() => anon.getByRole('banner').getByRole('option').count()).toBe(0);
      await anon.getByRole('form', { name: 'Create an organization' }).waitFor();
    });
  });
});
