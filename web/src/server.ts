/**
 * What the server that serves this page says of itself, in a meta tag of index.html (introspection is
 * off in production, so the app does not ask the schema): `trusted-documents` (send operations by
 * hash) and `dev-payments` (invoices can be paid with settleDevInvoice). Empty under `npm run dev`.
 */
export const serverFeatures: ReadonlySet<string> = new Set(
  (typeof document === 'undefined' ? '' : (document.querySelector('meta[name="confab-features"]')?.getAttribute('content') ?? '')).split(/\s+/).filter(Boolean),
);
