// What a payment backend is; lightning.backend.ts picks the configured one (lightning.dev.ts, lightning.lnbits.ts).

export interface InvoiceRequest {
  /** Confab's id for the invoice (the dev backend derives its payment hash from it). */
  id: string;
  amountSats: number;
  memo: string;
  expirySec: number;
}

export interface IssuedInvoice {
  paymentHash: string;
  paymentRequest: string;
}

/**
 * Where invoices come from and how their payment is confirmed. Confab only receives payments, so
 * a backend needs no spending rights.
 */
export interface LightningBackend {
  readonly name: 'dev' | 'lnbits';
  createInvoice(req: InvoiceRequest): Promise<IssuedInvoice>;
  /** Asks the backend whether the invoice has been paid; the only proof Confab trusts. */
  isPaid(paymentHash: string): Promise<boolean>;
}
