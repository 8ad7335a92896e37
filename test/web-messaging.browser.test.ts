import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserSkipReason, launchBrowser, screenshotsOnFailure, signedInPage } from './helpers/browser.ts';
import { addMember, createOrg, registerUser, type TestUser } from './helpers/fixtures.ts';
import { png } from './helpers/png.ts';
import { startServer, type TestServer } from './helpers/server.ts';

if (browserSkipReason) console.log(`web-messaging browser suite skipped: ${browserSkipReason}`);

const CreateRoom = /* GraphQL */ `
  mutation ($input: CreateRoomInput!) { createRoom(input: $input) { id } }
`;

describe.skipIf(!!browserSkipReason)('web client: attachments, replies and the inbox in a real browser', () => {
  let server: TestServer;
  let browser: Browser;
  let ada: TestUser;
  let bob: TestUser;
  let design: string;
  beforeAll(async () => {
    server = await startServer();
    browser = await launchBrowser();
    ada = await registerUser(server, { name: 'Ada' });
    bob = await registerUser(server, { name: 'Bob' });
    const org = await createOrg(server, ada);
    await addMember(server, org.id, ada, bob);
    const room = async (name: string) =>
      (await server.ok<any, any>(CreateRoom, { input: { orgId: org.id, type: 'GROUP', name, memberIds: [bob.id] } }, { token: ada.token })).createRoom.id as string;
    design = await room('design');
    await room('random');
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('an image upload shows on both sides, a reply updates its parent live, and the room list follows the inbox', { timeout: 120_000 }, async () => {
    const adaPage = await signedInPage(await browser.newContext(), server.origin, ada, `/app/rooms/${design}`);
    const bobPage = await signedInPage(await browser.newContext(), server.origin, bob, `/app/rooms/${design}`);
    screenshotsOnFailure(() => [adaPage, bobPage]);
    await adaPage.getByRole('heading', { name: 'design' }).waitFor();
    await bobPage.getByRole('heading', { name: 'design' }).waitFor();

    // Ada attaches a picture: it is uploaded, sent, and Bob's browser loads it from its signed URL.
    await adaPage.getByLabel('Message', { exact: true }).fill('the new logo');
    await adaPage.getByLabel('Attach files').setInputFiles({ name: 'logo.png', mimeType: 'image/png', buffer: png(40, 30) });
    await adaPage.getByRole('button', { name: 'Send', exact: true }).click();
    const bobImage = bobPage.getByRole('log').getByRole('img', { name: 'logo.png' });
    await bobImage.waitFor();
    await expect.poll(() => bobImage.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth), { timeout: 15_000 }).toBe(40);
    await adaPage.getByRole('log').getByRole('img', { name: 'logo.png' }).waitFor();

    // Bob replies to it; Ada's message shows "1 reply" live, and the reply is in its pane, not in the room's list.
    const bobMessage = bobPage.getByRole('log').locator('li[data-seq="1"]');
    await bobMessage.getByRole('button', { name: 'Reply' }).click();
    const pane = bobPage.getByRole('region', { name: 'Replies' });
    await pane.getByLabel('Reply', { exact: true }).fill('love it @Ada');
    await pane.getByRole('button', { name: 'Send reply' }).click();
    await pane.getByText('love it @Ada').waitFor();
    const adaMessage = adaPage.getByRole('log').locator('li[data-seq="1"]');
    await adaMessage.getByRole('button', { name: '1 reply' }).waitFor();
    expect(await adaPage.getByRole('log').getByText('love it @Ada').count()).toBe(0);
    await adaMessage.getByRole('button', { name: '1 reply' }).click();
    await adaPage.getByRole('region', { name: 'Replies' }).getByText('love it @Ada').waitFor();

    // A message in the other room reaches Ada's room list through her inbox (no polling, no room subscription).
    await bobPage.getByRole('link', { name: /random/ }).click();
    await bobPage.getByRole('heading', { name: 'random' }).waitFor();
    await bobPage.getByLabel('Message', { exact: true }).fill('lunch? @Ada');
    await bobPage.getByLabel('Message', { exact: true }).press('Enter');
    await bobPage.getByRole('log').getByText('lunch? @Ada').waitFor();
    const randomLink = adaPage.getByRole('link', { name: /random/ });
    await randomLink.getByLabel('1 unread').waitFor();
    await randomLink.getByLabel('1 mentions').waitFor();
    await randomLink.getByText('Bob: lunch? @Ada').waitFor();
    await adaPage.getByLabel('1 unread in all rooms').waitFor();

    // Opening the room reads it: the badge goes, on this page and on the inbox's InboxRoomRead.
    await randomLink.click();
    await adaPage.getByRole('log').getByText('lunch? @Ada').waitFor();
    await adaPage.getByRole('link', { name: /design/ }).click();
    await adaPage.getByRole('heading', { name: 'design' }).waitFor();
    await expect.poll(() => adaPage.getByRole('link', { name: /random/ }).getByLabel(/unread/).count()).toBe(0);
    expect(await adaPage.getByLabel(/unread in all rooms/).count()).toBe(0);
  });
});
