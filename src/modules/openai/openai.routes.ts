import type { Route } from '../../app-module.ts';
import { allowedModels } from '../chat/providers/index.ts';
import { refuseActingHeader } from '../../auth/acting.ts';
import { resolveViewer } from '../../auth/viewer.ts';
import { unauthenticated } from '../../errors.ts';
import { enforceRequestRate } from '../../ratelimit.ts';
import { modelsOfOrg } from '../usage/plan-models.ts';
import { chatCompletions } from './openai.completions.ts';
import { fromError } from './openai.errors.ts';

const STARTED = Math.floor(Date.now() / 1000);

/** The OpenAI-compatible REST API's routes: chat completions and the model list. */
export const openaiRoutes: Route[] = [
  { method: 'POST', path: '/v1/chat/completions', handler: chatCompletions },
  {
    method: 'GET',
    path: '/v1/models',
    async handler(request, app) {
      let models: string[];
      try {
        refuseActingHeader(request);
        const viewer = await resolveViewer(app, {
          authorization: request.headers.get('authorization') ?? undefined,
          apiKey: request.headers.get('x-api-key') ?? undefined,
        });
        if (viewer.kind === 'anonymous' || viewer.kind === 'session') throw unauthenticated('Missing API key: send it as Authorization: Bearer cfk_… or X-API-Key');
        await enforceRequestRate(app.limiter, app.config.rateLimit, viewer, 'rest');
        // An API key sees what its org's plan allows; a signed-in user, who may belong to several orgs, every model.
        models = viewer.kind === 'apiKey' ? await modelsOfOrg(app, viewer.orgId) : allowedModels(app.config);
      } catch (err) {
        return fromError(err);
      }
      const data = models.map((id) => ({ id, object: 'model', created: STARTED, owned_by: 'confab' }));
      return Response.json({ object: 'list', data });
    },
  },
];
