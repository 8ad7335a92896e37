import { z } from 'zod';
import { requireUserId } from '../../auth/rules.ts';
import { randomToken, sha256 } from '../../auth/tokens.ts';
import type { AppServices, Context } from '../../context.ts';
import { db } from '../../db/client.ts';
import { badInput, notFound, parseInput } from '../../errors.ts';
import { announceAccessChange } from '../../live/access.ts';
import { checkProject } from '../threads/threads.access.ts';

export const API_KEY_PREFIX = 'cfk_';
/** What an API key may do in its org. Later domains check these by name. */
export const API_KEY_SCOPES = ['READ', 'WRITE', 'NOTIFY', 'CHAT', 'ACT_AS'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

const createInput = z.object({
  name: z.string().trim().min(1, 'is required').max(100),
  scopes: z.array(z.enum(API_KEY_SCOPES)).min(1, 'must hold at least one scope').max(API_KEY_SCOPES.length),
});

/** Scopes that mean something inside one project (NOTIFY and ACT_AS are org-wide). */
const PROJECT_SCOPES: readonly string[] = ['READ', 'WRITE', 'CHAT'];

/** The plaintext key is returned here once; only its SHA-256 is stored. */
export async function createApiKey(ctx: Context, orgId: string, projectId: string | null, input: unknown) {
  const userId = requireUserId(ctx);
  const data = parseInput(createInput, input);
  if (projectId) {
    const project = await db.project.findUnique({ where: { id: projectId }, select: { orgId: true } });
    if (!project) throw notFound('Project');
    if (project.orgId !== orgId) {
      // Someone who cannot see the project learns nothing about it.
      const visible = await checkProject(ctx, projectId, 'READ');
      throw visible === true ? badInput('The project belongs to another org', 'projectId') : visible;
    }
    const wide = data.scopes.find((s) => !PROJECT_SCOPES.includes(s));
    if (wide) throw badInput(`A project key cannot have the ${wide} scope`, 'scopes');
  }
  const key = randomToken(API_KEY_PREFIX);
  const apiKey = await db.apiKey.create({
    data: {
      orgId,
      name: data.name,
      prefix: key.slice(0, API_KEY_PREFIX.length + 6),
      keyHash: sha256(key),
      scopes: [...new Set(data.scopes)],
      createdById: userId,
      projectId,
    },
  });
  return { apiKey, key };
}

/** Revokes a key; once committed, sockets opened with it close on every instance and their streams end. */
export async function revokeApiKey(app: AppServices, id: string) {
  const key = await db.apiKey.findUnique({ where: { id } });
  if (!key) throw notFound('API key');
  const revoked = await db.apiKey.update({ where: { id }, data: { revokedAt: key.revokedAt ?? new Date() } });
  announceAccessChange(app.pubsub, { subjects: [`key:${id}`], revoked: true });
  return revoked;
}

const LAST_USED_RESOLUTION_MS = 60_000;

/**
 * The active key for a presented secret. `lastUsedAt` is written at most once a minute per key, so
 * a busy integration does not turn every read into a write.
 */
export async function findActiveApiKey(secret: string) {
  if (!secret.startsWith(API_KEY_PREFIX)) return null;
  const key = await db.apiKey.findUnique({ where: { keyHash: sha256(secret) } });
  if (!key || key.revokedAt) return null;
  const now = Date.now();
  if (!key.lastUsedAt || now - key.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
    await db.apiKey.update({ where: { id: key.id }, data: { lastUsedAt: new Date(now) } });
  }
  return { ...key, scopes: (key.scopes as string[]) ?? [] };
}
