import { decodeGlobalID } from '@pothos/plugin-relay';
import { refuseActingHeader } from '../../auth/acting.ts';
import type { Viewer } from '../../auth/identity.ts';
import { isEmailVerified, emailUnverified } from '../../auth/verified.ts';
import { resolveViewer } from '../../auth/viewer.ts';
import type { AppServices } from '../../context.ts';
import { db } from '../../db/client.ts';
import { forbidden, notFound, unauthenticated } from '../../errors.ts';
import { enforceRequestRate } from '../../ratelimit.ts';

export interface RestCaller {
  viewer: Viewer;
  /** The org that is metered and whose BYOK key is used. */
  orgId: string;
  /** The acting user (an API key acts as its creator). */
  userId: string;
}

const rawOrgId = (value: string) => {
  try {
    const { typename, id } = decodeGlobalID(value);
    return typename === 'Org' ? id : value;
  } catch {
    return value;
  }
};

/**
 * Who calls the REST API and for which org. API keys (`Authorization: Bearer cfk_…` as OpenAI
 * clients send it, or `X-API-Key`) act for their org and need the CHAT scope. A user's JWT acts for
 * the org named by `OpenAI-Organization` (the openai client's `organization` option; a global or raw
 * org id), else their first org.
 */
export async function restCaller(app: AppServices, request: Request): Promise<RestCaller> {
  refuseActingHeader(request);
  const viewer = await resolveViewer(app, {
    authorization: request.headers.get('authorization') ?? undefined,
    apiKey: request.headers.get('x-api-key') ?? undefined,
  });
  if (viewer.kind === 'anonymous') throw unauthenticated('Missing API key: send it as Authorization: Bearer cfk_… or X-API-Key');
  if (viewer.kind === 'session') throw unauthenticated('A prepaid session token does not open this API: use an API key');
  await enforceRequestRate(app.limiter, app.config.rateLimit, viewer, 'rest');
  if (viewer.kind === 'apiKey') {
    if (!viewer.scopes.includes('CHAT')) throw forbidden('API key lacks the CHAT scope');
    // REST chat is metered against the whole org, outside any project.
    if (viewer.projectId) throw forbidden('This API key is limited to one project');
    return { viewer, orgId: viewer.orgId, userId: viewer.createdById };
  }
  if (app.config.auth.requireVerifiedEmail && !(await isEmailVerified(viewer.userId))) throw emailUnverified('the OpenAI-compatible API');
  const asked = request.headers.get('openai-organization');
  const membership = await db.membership.findFirst({
    where: { userId: viewer.userId, ...(asked ? { orgId: rawOrgId(asked) } : {}) },
    orderBy: { createdAt: 'asc' },
  });
  if (!membership) throw asked ? notFound('Org') : forbidden('You belong to no org: create one first');
  return { viewer, orgId: membership.orgId, userId: viewer.userId };
}
