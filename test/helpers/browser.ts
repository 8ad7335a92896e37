import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { onTestFailed } from 'vitest';
import { leftovers } from './leftovers.ts';
import type { TestUser } from './fixtures.ts';

/** The system Chromium (Debian's `chromium` package; CONFAB_CHROMIUM names another). Never downloaded. */
export const chromiumPath = [process.env.CONFAB_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']
  .filter((p): p is string => !!p)
  .find((p) => existsSync(p));

/** The web client's bundle the server serves at /app: committed (web/dist), rebuilt by `npm run build:web`. */
export const webBuilt = existsSync(fileURLToPath(new URL('../../web/dist/index.html', import.meta.url)));

/** Why the browser suites cannot run here, or undefined when they can. Printed by the skipping suite. */
export const browserSkipReason = !chromiumPath
  ? 'no Chromium found (install Debian\'s `chromium` package, or set CONFAB_CHROMIUM)'
  : !webBuilt
    ? 'the web client\'s bundle web/dist is missing (`npm run build:web`)'
    : undefined;

const SHOTS = fileURLToPath(new URL('../../test-results/screenshots/', import.meta.url));

/** Headless Chromium with the flags that keep it quiet and offline (no background downloads or sync). */
export async function launchBrowser(): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  leftovers.push(() => browser.close());
  return browser;
}

/**
 * Saves a screenshot of each page when the running test fails (test-results/screenshots, ignored
 * by git), named after the test; call at the start of each test with the pages it uses.
 */
export function screenshotsOnFailure(pages: () => Page[]) {
  onTestFailed(async ({ task }) => {
    mkdirSync(SHOTS, { recursive: true });
    const name = `${process.env.CONFAB_TEST_DB ?? 'db'}-${task.name}`.replace(/[^a-z0-9-]+/gi, '_');
    for (const [i, page] of pages().entries()) {
      await page.screenshot({ path: `${SHOTS}${name}-${i}.png`, fullPage: true }).catch(() => {});
    }
  });
}

/** A page already signed in as `user` (the session the sign-in form would have stored). */
export async function signedInPage(context: BrowserContext, origin: string, user: TestUser, path = '/app/'): Promise<Page> {
  const session = { accessToken: user.token, refreshToken: user.refreshToken, accessTokenExpiresAt: new Date(Date.now() + 10 * 60_000).toISOString(), user: { id: user.id, name: user.name, email: user.email } };
  await context.addInitScript((s) => {
    if (!localStorage.getItem('confab.auth')) localStorage.setItem('confab.auth', s);
  }, JSON.stringify(session));
  const page = await context.newPage();
  await page.goto(origin + path);
  return page;
}
