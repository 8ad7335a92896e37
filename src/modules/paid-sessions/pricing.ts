import type { AppServices } from '../../context.ts';

export interface TokenCounts {
  promptTokens: number;
  completionTokens: number;
}

export interface PricedPart extends TokenCounts {
  model: string;
  usd: number;
  sats: number;
}

/**
 * How a request's cost was reached, stored with the request (JSON) and sent with its CostDebited event.
 * Parts keep their stored names (`usd`, `sats`); the GraphQL type `CostBreakdown` names their units.
 */
export interface CostBreakdown {
  /** US dollars per bitcoin used to convert. */
  btcUsd: number;
  markup: number;
  screening: PricedPart | null;
  work: PricedPart;
  costSats: number;
  absorbedSats: number;
  chargedSats: number;
  heldSats: number;
}

const SATS_PER_BTC = 100_000_000;

/** USD for the tokens at the model's price (`[pricing.models.<name>]`, else `[pricing.default]`), with the markup. */
export function priceUsd(app: AppServices, model: string, tokens: TokenCounts): number {
  const { models, markup } = app.config.pricing;
  const p = models[model] ?? app.config.pricing.default;
  return ((tokens.promptTokens / 1000) * p.inputPer1kUsd + (tokens.completionTokens / 1000) * p.outputPer1kUsd) * markup;
}

/** Whole sats, rounded up: a request that used any tokens costs at least one sat. */
export const usdToSats = (usd: number, btcUsd: number) => (usd > 0 ? Math.ceil((usd / btcUsd) * SATS_PER_BTC) : 0);

export function pricePart(app: AppServices, model: string, tokens: TokenCounts, btcUsd: number): PricedPart {
  const usd = priceUsd(app, model, tokens);
  return { model, ...tokens, usd: Math.round(usd * 1e8) / 1e8, sats: usdToSats(usd, btcUsd) };
}

const rates = new WeakMap<AppServices, { value: number; at: number }>();

const pick = (body: unknown, path: string) => path.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), body);

/**
 * The BTC/USD rate: from `[pricing] price_source_url` when set (a JSON document; the number at
 * `price_source_field`), cached for `price_cache_ttl` seconds; the configured `btc_usd` otherwise, or
 * when the source has never answered (after a failure the last good rate is kept).
 */
export async function btcUsd(app: AppServices): Promise<number> {
  const { priceSourceUrl, priceSourceField, priceCacheTtl } = app.config.pricing;
  if (!priceSourceUrl) return app.config.pricing.btcUsd;
  const cached = rates.get(app);
  if (cached && Date.now() - cached.at < priceCacheTtl * 1000) return cached.value;
  try {
    const res = await fetch(priceSourceUrl, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`price source answered ${res.status}`);
    const value = Number(pick(await res.json(), priceSourceField));
    if (!Number.isFinite(value) || value <= 0) throw new Error(`price source has no positive number at "${priceSourceField}"`);
    rates.set(app, { value, at: Date.now() });
    return value;
  } catch (err) {
    app.log.warn({ err: (err as Error).message }, 'BTC/USD price source failed; using the configured rate');
    return cached?.value ?? app.config.pricing.btcUsd;
  }
}
