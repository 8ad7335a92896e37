import { z } from 'zod';
import type { AppServices, Context } from '../../context.ts';
import { db } from '../../db/client.ts';
import { badInput, notFound, parseInput } from '../../errors.ts';
import type { ProviderName } from '../chat/providers/index.ts';
import { decryptSecret, encryptSecret } from './providerkeys.crypto.ts';

const addInput = z.object({
  provider: z.enum(['openai'], { error: 'must be one of: openai' }),
  key: z.string().trim().min(8, 'looks too short to be an API key').max(500),
});

/** Stores (or replaces) the org's key for a provider, encrypted; only its last 4 characters stay readable. */
export async function addProviderKey(ctx: Context, orgId: string, input: unknown) {
  const { provider, key } = parseInput(addInput, input);
  const createdById = ctx.viewer.kind === 'user' ? ctx.viewer.userId : '';
  const data = { encrypted: encryptSecret(ctx.app.config.auth.secretKey, key), last4: key.slice(-4), createdById };
  return db.providerKey.upsert({
    where: { orgId_provider: { orgId, provider } },
    create: { orgId, provider, ...data },
    update: data,
  });
}

/** Deletes the key and returns it as it was, read with `query` (a GraphQL selection). */
export async function removeProviderKey(id: string) {
  // deleteMany: a concurrent removal may have deleted it since the permission check; the one that deletes it answers.
  if (!(await db.providerKey.deleteMany({ where: { id } })).count) throw notFound('Provider key');
  return { id };
}

export interface Credentials {
  apiKey?: string;
  baseUrl?: string;
  /** Where the key came from, for logs (never the key). */
  source: 'byok' | 'server' | 'none';
}

/**
 * The key a request of this org uses: the org's own (BYOK), else the server's from config, else a
 * clear BAD_USER_INPUT before anything is stored. Providers that need no key get none.
 */
export async function credentialsFor(app: AppServices, orgId: string | null | undefined, provider: ProviderName, needsKey: boolean): Promise<Credentials> {
  if (!needsKey) return { source: 'none' };
  if (orgId) {
    const row = await db.providerKey.findUnique({ where: { orgId_provider: { orgId, provider } } });
    if (row) {
      try {
        return { apiKey: decryptSecret(app.config.auth.secretKey, row.encrypted), source: 'byok' };
      } catch {
        // Sealed under another server secret (or altered): unusable, and saying so beats a 500.
        throw badInput(`The org's ${provider} key can no longer be read (the server secret changed): an org admin must add it again`, 'model');
      }
    }
  }
  const serverKey = provider === 'openai' ? app.config.providers.openai.apiKey : undefined;
  if (serverKey) return { apiKey: serverKey, source: 'server' };
  throw badInput(
    `No API key for the ${provider} provider: an org admin can add one with addProviderKey, or the server sets providers.${provider}.api_key`,
    'model',
  );
}
