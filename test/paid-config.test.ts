import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';
import { lightningModule } from '../src/modules/lightning/lightning.module.ts';

const write = (toml: string) => {
  const file = join(mkdtempSync(join(tmpdir(), 'confab-cfg-')), 'confab.toml');
  writeFileSync(file, toml);
  return file;
};

describe('payment configuration', () => {
  it('has offline defaults', () => {
    const c = loadConfig({ env: {}, file: false });
    expect(c.lightning.backend).toBe('dev');
    expect(c.paidSessions).toMatchObject({ minSats: 100, maxSats: 10_000, ttl: 86_400 });
    expect(c.freePool.sats).toBe(0);
  });

  it('reads the TOML sections in snake_case, model prices included', () => {
    const c = loadConfig({
      env: { LNBITS_API_KEY: 'from-env' },
      file: write(`
[lightning]
backend = "lnbits"
lnbits_url = "http://127.0.0.1:5000"
webhook_secret = "s3cret"
[paid_sessions]
min_sats = 10
minimum_balance = 5
[pricing]
btc_usd = 50000
default = { input_per_1k_usd = 0.2, output_per_1k_usd = 0.4 }
[pricing.models.gpt-4o-mini]
input_per_1k_usd = 0.15
output_per_1k_usd = 0.6
[screening]
enabled = true
blocked_words = ["nope"]
[free_pool]
sats = 1000
[trust]
free_pool_tier = "established"
`),
    });
    expect(c.lightning).toMatchObject({ backend: 'lnbits', lnbitsApiKey: 'from-env', webhookSecret: 's3cret' });
    expect(c.paidSessions).toMatchObject({ minSats: 10, minimumBalance: 5 });
    expect(c.pricing.models['gpt-4o-mini']).toEqual({ inputPer1kUsd: 0.15, outputPer1kUsd: 0.6 });
    expect(c.pricing.default).toEqual({ inputPer1kUsd: 0.2, outputPer1kUsd: 0.4 });
    expect(c.screening).toMatchObject({ enabled: true, blockedWords: ['nope'] });
    expect(c.freePool).toMatchObject({ sats: 1000 });
    expect(c.trust).toMatchObject({ freePoolTier: 'ESTABLISHED' });
  });

  it('refuses the lnbits backend without its URL and key', () => {
    expect(() => loadConfig({ env: { LIGHTNING_BACKEND: 'lnbits' }, file: false })).toThrow(ConfigError);
  });

  it('keeps settleDevInvoice out of the schema with a real wallet and in production', () => {
    const hidden = (env: Record<string, string>) => lightningModule.hiddenFields!(loadConfig({ env, file: false }));
    expect(hidden({})).toEqual([]);
    expect(hidden({ NODE_ENV: 'production', CONFAB_SECRET_KEY: 'a-production-secret-of-at-least-32-chars' })).toEqual(['Mutation.settleDevInvoice']);
    expect(hidden({ LIGHTNING_BACKEND: 'lnbits', LNBITS_URL: 'http://127.0.0.1:5000', LNBITS_API_KEY: 'k' })).toEqual(['Mutation.settleDevInvoice']);
  });
});
