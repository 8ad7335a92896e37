import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fromRoot } from '../../paths.ts';
import type { Config } from '../../config.ts';
import { readManifest } from '../../http/trusted.ts';
import { devSettleAllowed } from '../lightning/lightning.backend.ts';
import { defineModule } from '../../app-module.ts';
import { graphiqlRoutes } from './graphiql.ts';
import { serveSpa } from './web.static.ts';

/** The reference client's bundle (web/dist): committed, rebuilt by `npm run build:web`. */
const ROOT = fromRoot('web', 'dist');
const MOUNT = '/app';
/** The client's operations by hash, as its build ships them (web/vite.config.ts). */
const MANIFEST = join(ROOT, 'persisted-documents.json');
const redirect = (status: number) => new Response(null, { status, headers: { location: `${MOUNT}/` } });

/**
 * What the page needs to know of this server, without introspection (off in production): whether it
 * runs trusted documents only (the client then sends hashes, web/src/trusted.ts), whether invoices
 * can be paid with the dev backend's settleDevInvoice (the "Simulate payment" button), and whether it
 * verifies email addresses (mail is configured or verification required: the client asks to verify).
 */
function withServerFeatures(config: Config): (html: string) => string {
  const features = [
    config.security.trustedDocuments && 'trusted-documents',
    devSettleAllowed(config) && 'dev-payments',
    (config.mail.smtpUrl || config.auth.requireVerifiedEmail) && 'email-verification',
  ]
    .filter(Boolean)
    .join(' ');
  return (html) => html.replace('<head>', `<head>\n    <meta name="confab-features" content="${features}">`);
}

/**
 * The reference web client at /app, so `npm start` gives a working product at one URL (the app
 * calls /graphql on the same origin). The bundle is committed; without it, /app says how to build one. Also GraphiQL's
 * assets, served locally (see graphiql.ts). With trusted documents on, the client's own manifest is
 * accepted too and its page tells it to send hashes, so /app keeps working.
 */
export const webModule = defineModule({
  name: 'web',
  routes: [
    { method: 'GET', path: '/', handler: () => redirect(302) },
    { method: 'GET', path: MOUNT, handler: () => redirect(301) },
    {
      method: 'GET',
      path: `${MOUNT}/*`,
      handler: (request, app) => serveSpa(ROOT, MOUNT, new URL(request.url).pathname, withServerFeatures(app.config)),
    },
    ...graphiqlRoutes,
  ],
  trustedDocuments: () => (existsSync(MANIFEST) ? readManifest(MANIFEST) : undefined),
});
