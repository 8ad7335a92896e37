/**
 * What the server that serves this page says of itself, in a meta tag of index.html (introspection is
 * off in production, so the app does not ask the schema): `trusted-documents` (send operations by
 * hash), `dev-payments` (invoices can be paid with settleDevInvoice) and `email-verification` (the
 * server mails verification links: ask unverified users to verify). Empty under `npm run dev`.
 */
export const serverFeatures: ReadonlySet<string> = new Set(
  (typeof document === 'undefined' ? '' : (document.querySelector('meta[name="confab-features"]')?.getAttribute('content') ?? '')).split(/\s+/).filter(Boolean),
);
