import { readFileSync } from 'node:fs';
import { buildSchema, Kind, parse, print, validate, type OperationDefinitionNode } from 'graphql';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRAPHIQL_EXAMPLE_VARIABLES, GRAPHIQL_EXAMPLES, GRAPHIQL_SEND_EXAMPLE } from '../src/modules/web/graphiql-examples.ts';
import { browserSkipReason, launchBrowser, screenshotsOnFailure, webBuilt } from './helpers/browser.ts';
import { createOrg, registerUser, type TestUser } from './helpers/fixtures.ts';
import { startServer, type TestServer } from './helpers/server.ts';
import { subscribe } from './helpers/client.ts';
import { graphql } from './gql/index.ts';

const Notify = graphql(`
  mutation ServingNotify($input: NotifyInput!) { notify(input: $input) { recipientCount } }
`);

if (browserSkipReason) console.log(`GraphiQL browser suite skipped: ${browserSkipReason}`);

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});

describe.skipIf(!webBuilt)('the web client at /app', () => {
  const get = (path: string) => fetch(server.origin + path, { redirect: 'manual' });

  it('serves index.html for the app and its client-side routes, never cached', async () => {
    for (const path of ['/app/', '/app/rooms/abc', '/app/paid/xyz']) {
      const res = await get(path);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('cache-control')).toBe('no-cache');
      expect(await res.text()).toContain('<div id="root">');
    }
    expect((await get('/app')).headers.get('location')).toBe('/app/');
    expect((await get('/')).headers.get('location')).toBe('/app/');
  });

  it('serves built assets with their content type and immutable caching; a missing file is a 404, not HTML', async () => {
    const html = await (await get('/app/')).text();
    const script = html.match(/src="(\/app\/assets\/[^"]+\.js)"/)![1];
    const css = html.match(/href="(\/app\/assets\/[^"]+\.css)"/)![1];
    const js = await get(script);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toContain('immutable');
    expect((await get(css)).headers.get('content-type')).toBe('text/css; charset=utf-8');
    const missing = await get('/app/assets/nope.js');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toContain('text/plain');
  });

  it('refuses paths that escape the build folder', async () => {
    for (const path of ['/app/%2e%2e/%2e%2e/package.json', '/app/..%2f..%2fpackage.json', '/app/%2e%2e%2fsrc%2fapp.ts']) {
      const res = await get(path);
      expect(res.status, path).toBe(404);
      expect(await res.text()).not.toContain('confab');
    }
  });
});

describe('GraphiQL at /graphql opens on the example walk', () => {
  const walk = ['mutation SignUp', 'mutation CreateOrg', 'mutation CreateRoom', 'subscription RoomEvents', 'mutation SendMessage'];
  const operations = (doc: string) =>
    parse(doc).definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);

  it('the page a browser gets carries the examples as its default tabs', async () => {
    const res = await fetch(`${server.origin}/graphql`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    const html = await res.text();
    const json = html.match(/<script type="application\/json" id="graphiql-options">([^<]*)<\/script>/)?.[1];
    expect(json).toBeDefined();
    const options = JSON.parse(json!);
    expect(options).toMatchObject({ title: 'Confab GraphiQL', subscriptionsProtocol: 'WS', defaultQuery: GRAPHIQL_EXAMPLES });
    expect(options.defaultTabs).toEqual([
      { query: GRAPHIQL_EXAMPLES, variables: GRAPHIQL_EXAMPLE_VARIABLES },
      { query: GRAPHIQL_SEND_EXAMPLE, variables: expect.any(String) },
    ]);
  });

  it('the walk signs up, creates an org and a room, subscribes, then sends; each step has a one-line comment', () => {
    expect(operations(GRAPHIQL_EXAMPLES).map((op) => `${op.operation} ${op.name?.value}`)).toEqual(walk);
    expect(operations(GRAPHIQL_SEND_EXAMPLE).map((op) => `${op.operation} ${op.name?.value}`)).toEqual(['mutation SendMessage']);
    const lines = GRAPHIQL_EXAMPLES.split('\n');
    walk.forEach((head, i) => {
      const at = lines.findIndex((l) => l.startsWith(`${head}(`));
      expect(lines[at - 1], head).toMatch(new RegExp(`^# ${i + 1}\\. \\S`));
    });
  });

  it('the examples are valid against schema.graphql, and the variables give every step what it needs', () => {
    const schema = buildSchema(readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8'));
    expect(validate(schema, parse(GRAPHIQL_EXAMPLES)).map((e) => e.message)).toEqual([]);
    expect(validate(schema, parse(GRAPHIQL_SEND_EXAMPLE)).map((e) => e.message)).toEqual([]);
    const variables = Object.keys(JSON.parse(GRAPHIQL_EXAMPLE_VARIABLES));
    const needed = operations(GRAPHIQL_EXAMPLES).flatMap((op) => op.variableDefinitions?.map((v) => v.variable.name.value) ?? []);
    expect(variables.sort()).toEqual([...new Set(needed)].sort());
  });

  it('the walk runs as written: each step with the variables, the ids filled in as the comments say', async () => {
    const step = (name: string) => print(operations(GRAPHIQL_EXAMPLES).find((op) => op.name?.value === name)!);
    const vars = JSON.parse(GRAPHIQL_EXAMPLE_VARIABLES);
    const run = (name: string, auth?: { token: string }) => server.ok<any, unknown>(step(name), vars, auth);
    const auth = { token: (await run('SignUp')).register.accessToken };
    vars.orgId = (await run('CreateOrg', auth)).createOrg.id;
    vars.roomId = (await run('CreateRoom', auth)).createRoom.id;
    // From the room's start (afterSeq: 0), so the message arrives whether it is sent before the stream listens or after.
    const events = subscribe<any, any>(server.ws(auth), step('RoomEvents'), vars);
    const sent = (await run('SendMessage', auth)).sendMessage;
    expect(sent.content).toBe(vars.content);
    const event = await events.next();
    expect(event.data.roomEvents).toMatchObject({ __typename: 'RoomMessageAdded', message: { id: sent.id, content: vars.content } });
    events.close();
  });
});

describe.skipIf(!!browserSkipReason)('GraphiQL at /graphql in a real browser', () => {
  let browser: Browser;
  let page: Page;
  let user: TestUser;
  beforeAll(async () => {
    user = await registerUser(server, { name: 'Lin' });
    const org = await createOrg(server, user);
    await server.ok(Notify, { input: { orgId: org.id, topic: 'deploys', payload: { text: 'shipped' }, targets: { userIds: [user.id] } } }, { token: user.token });
    browser = await launchBrowser();
    page = await browser.newPage();
  });
  afterAll(async () => {
    await browser?.close();
  });

  /** Replaces the text of a GraphiQL editor (Monaco) without its auto-closing brackets. */
  async function typeInto(editor: string, text: string) {
    await page.locator(editor).click();
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText(text);
  }

  /**
   * Runs what the query editor holds until the response shows `expected`. GraphiQL takes the editor's text into
   * its state after a debounce: a click before that runs the previous document (the example walk, whose five
   * operations make the button ask which one), so the click is repeated until the answer arrives. A running
   * subscription turns the button into Stop: then it is left alone.
   */
  async function runUntil(expected: string) {
    await expect
      .poll(
        async () => {
          const execute = page.getByRole('button', { name: /Execute query/ });
          if (await execute.isVisible()) {
            await execute.click();
            await page.keyboard.press('Escape'); // closes the operation picker if the old document was still in place
          }
          return page.locator('.graphiql-response').textContent();
        },
        { timeout: 20_000, interval: 750 },
      )
      .toContain(expected);
  }

  it('loads with its assets from Confab itself, runs a query and a subscription', { timeout: 90_000 }, async () => {
    screenshotsOnFailure(() => [page]);
    const blocked = watchCsp(page);
    const external: string[] = [];
    page.on('request', (r) => !r.url().startsWith(server.origin) && !r.url().startsWith('blob:') && !r.url().startsWith('data:') && external.push(r.url()));
    await page.goto(`${server.origin}/graphql`);
    await page.locator('.graphiql-container').first().waitFor({ timeout: 30_000 });
    // A first visit opens on the example walk (src/modules/web/graphiql-examples.ts).
    await expect.poll(() => page.locator('.graphiql-query-editor').textContent(), { timeout: 15_000 }).toContain('SignUp');
    await page.getByText('Headers', { exact: true }).click();
    await typeInto('.graphiql-editor-tool .graphiql-editor:not(.hidden) .monaco-editor', JSON.stringify({ Authorization: `Bearer ${user.token}` }));
    await typeInto('.graphiql-query-editor .monaco-editor', '{ me { email } }');
    await runUntil(user.email);

    await typeInto('.graphiql-query-editor .monaco-editor', 'subscription { notifications { topic payload } }');
    await runUntil('shipped');
    expect(external).toEqual([]);
    // The Content-Security-Policy every response carries let all of it run.
    expect(blocked).toEqual([]);
  });

  it('the web client at /app runs under the same Content-Security-Policy', { timeout: 60_000 }, async () => {
    const app = await browser.newPage();
    screenshotsOnFailure(() => [app]);
    const blocked = watchCsp(app);
    const errors: string[] = [];
    app.on('pageerror', (e) => errors.push(e.message));
    const res = await app.goto(`${server.origin}/app/`);
    expect(res?.headers()['content-security-policy']).toContain("script-src 'self'");
    await app.locator('input').first().waitFor({ timeout: 30_000 });
    expect(errors).toEqual([]);
    expect(blocked).toEqual([]);
    await app.close();
  });
});

/** CSP refusals a page reports (document violations and the console's "Refused to …" lines). */
function watchCsp(page: Page): string[] {
  const blocked: string[] = [];
  page.on('console', (m) => /Content Security Policy|Refused to/i.test(m.text()) && blocked.push(m.text()));
  void page.addInitScript(() =>
    document.addEventListener('securitypolicyviolation', (e) => console.error(`Refused to load (CSP ${e.violatedDirective}): ${e.blockedURI}`)),
  );
  return blocked;
}
