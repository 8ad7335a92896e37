import type { Route } from '../../app-module.ts';
import { graphiqlExampleOptions } from './graphiql-examples.ts';

const BASE = '/graphiql';
/** The package's version, so a new one gets new URLs and the assets can be cached for good. */
const VERSION = '5.24.1';

type Assets = typeof import('@graphql-yoga/render-graphiql/graphiql');
let assets: Promise<Assets> | undefined;
// 9 MB of JavaScript: loaded the first time someone opens GraphiQL, not at every start.
const load = () => (assets ??= import('@graphql-yoga/render-graphiql/graphiql'));

const FILES: Record<string, [keyof Assets, string]> = {
  'yoga-graphiql.js': ['js', 'text/javascript; charset=utf-8'],
  'graphiql.css': ['css', 'text/css; charset=utf-8'],
  'editor.worker.js': ['editorWorkerService', 'text/javascript; charset=utf-8'],
  'json.worker.js': ['jsonWorker', 'text/javascript; charset=utf-8'],
  'graphql.worker.js': ['graphqlWorker', 'text/javascript; charset=utf-8'],
};

const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

const src = (name: string) => `${BASE}/${name}?v=${VERSION}`;

/**
 * GraphiQL's own boot code, as files rather than inline scripts, so that the Content-Security-Policy
 * allows scripts from this origin only: `setup.js` tells Monaco where its workers are (before GraphiQL
 * loads), `boot.js` renders with the options the page carries as JSON.
 */
const BOOT: Record<string, string> = {
  'setup.js': `self.MonacoEnvironment = { globalAPI: false, getWorkerUrl: (_id, label) => (${JSON.stringify({
    editorWorkerService: src('editor.worker.js'),
    json: src('json.worker.js'),
    graphql: src('graphql.worker.js'),
  })})[label] };\n`,
  'boot.js': `YogaGraphiQL.renderYogaGraphiQL(document.querySelector('#root'), JSON.parse(document.getElementById('graphiql-options').textContent));\n`,
};

/**
 * GraphiQL's page with its assets served by Confab itself (from @graphql-yoga/render-graphiql),
 * instead of yoga's default page, which loads them from unpkg.com: GraphiQL then works offline and
 * behind firewalls, and the browser caches the 9 MB once instead of the page inlining it. A first
 * visit opens on example operations (graphiql-examples.ts).
 */
export function renderLocalGraphiQL(opts?: { title?: string }): string {
  // It opens on the example walk (graphiql-examples.ts) unless yoga's options name their own defaults.
  // `<` escaped so that no option can close the script element.
  const options = JSON.stringify({ ...graphiqlExampleOptions, ...opts }).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8" /><title>${escapeHtml(opts?.title ?? 'GraphiQL')}</title>
<link rel="stylesheet" href="${src('graphiql.css')}" /></head>
<body id="body" class="no-focus-outline">
<noscript>You need to enable JavaScript to run GraphiQL.</noscript>
<div id="root"></div>
<script type="application/json" id="graphiql-options">${options}</script>
<script src="${src('setup.js')}"></script>
<script src="${src('yoga-graphiql.js')}"></script>
<script src="${src('boot.js')}"></script>
</body>
</html>`;
}

/** GraphiQL's script, styles and editor workers, cached by the browser for a year (URLs carry the version). */
export const graphiqlRoutes: Route[] = [
  {
    method: 'GET',
    path: `${BASE}/*`,
    async handler(request) {
      const name = new URL(request.url).pathname.slice(BASE.length + 1);
      const file = FILES[name];
      if (!file && !BOOT[name]) return new Response('Not found', { status: 404 });
      const body = file ? ((await load())[file[0]] as string) : BOOT[name];
      return new Response(body, {
        headers: { 'content-type': file?.[1] ?? 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=31536000, immutable', 'x-content-type-options': 'nosniff' },
      });
    },
  },
];
