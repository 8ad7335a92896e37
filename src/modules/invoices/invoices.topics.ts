export type InvoiceStateName = 'PENDING' | 'PAID' | 'EXPIRED' | 'CANCELLED';

/** What the invoices domain announces: each state change of an invoice, as of that change. */
export type InvoiceTopics = {
  'invoice:updated': [invoiceId: string, payload: { state: InvoiceStateName; paidAt: string | null }];
};

declare module '../../live/bus.ts' {
  /** Registers this domain's topics in the one typed map. */
  interface TopicRegistry extends InvoiceTopics {}
}
