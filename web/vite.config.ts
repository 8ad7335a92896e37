import { readFileSync } from 'node:fs';
import { defineConfig, type Plugin } from 'vite';

/** The trusted-documents manifest codegen wrote (hash → document), shipped beside the app (see src/trusted.ts). */
const persistedDocuments = (): Plugin => ({
  name: 'confab-persisted-documents',
  generateBundle() {
    const source = readFileSync(new URL('./src/gql/persisted-documents.json', import.meta.url), 'utf8');
    this.emitFile({ type: 'asset', fileName: 'persisted-documents.json', source });
  },
});

/**
 * Built into dist/ and served by Confab at /app (so `base` is /app/). `npm run dev` proxies the API to
 * a Confab on :4000, WebSockets included. JSX is compiled by Vite's own transformer for Preact; no plugin.
 * dist/ is committed (scripts/build-web.mjs): no source maps (they would hold this machine's paths), and
 * the same sources build the same bytes (CI rebuilds and compares).
 */
export default defineConfig({
  base: '/app/',
  plugins: [persistedDocuments()],
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 300 },
  server: { proxy: { '/graphql': { target: 'http://localhost:4000', ws: true } } },
});
