import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { builtFromHash, STAMP, webInputs, webInputsHash } from '../scripts/web-inputs.mjs';

const WEB = fileURLToPath(new URL('../web/', import.meta.url));

/**
 * web/dist is committed, so that a fresh clone serves /app after `npm install && npm start` with nothing
 * built. This checks, without building, that it was built from the web client's sources as committed:
 * `npm run build:web` records the hash of its inputs beside the bundle (scripts/web-inputs.mjs).
 */
describe('the committed web client bundle (web/dist)', () => {
  it('was built from the current web/ sources', () => {
    const recorded = builtFromHash(WEB);
    expect(recorded, `web/${STAMP} is missing: run \`npm run build:web\` and commit web/dist`).toBeDefined();
    expect(
      webInputsHash(WEB),
      "web/dist is stale: web/'s sources (scripts/web-inputs.mjs says which files) changed since it was built. " +
        'Run `npm run build:web` and commit web/dist.',
    ).toBe(recorded);
  });

  it('holds the page, every asset the page references, and the trusted-documents manifest', () => {
    const html = readFileSync(`${WEB}dist/index.html`, 'utf8');
    const assets = [...html.matchAll(/(?:src|href)="\/app\/([^"]+)"/g)].map((m) => m[1]);
    expect(assets.some((a) => a.endsWith('.js'))).toBe(true);
    for (const asset of assets) expect(existsSync(`${WEB}dist/${asset}`), `web/dist/${asset}`).toBe(true);
    expect(JSON.parse(readFileSync(`${WEB}dist/persisted-documents.json`, 'utf8'))).toBeTypeOf('object');
  });

  it('the hash covers the sources, not generated code', () => {
    const inputs = webInputs(WEB);
    expect(inputs).toEqual(expect.arrayContaining(['index.html', 'package-lock.json', 'vite.config.ts', 'src/main.tsx']));
    expect(inputs.filter((f) => f.startsWith('src/gql/') || f.startsWith('dist/') || f.startsWith('node_modules/'))).toEqual([]);
  });
});
