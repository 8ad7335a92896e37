import type { Route } from '../../app-module.ts';
import { allowedModels } from '../chat/providers/index.ts';
import { refuseActingHeader } from '../../auth/acting.ts';
import { resolveViewer } from '../../auth/viewer.ts';
import { unauthenticated } from '../../errors.ts';
import { enforceRequestRate } from '../../ratelimit.ts';
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
      try {
        refuseActingHeader(request);
        const viewer = await resolveViewer(app, {
          authorization: request.headers.get('authorization') ?? undefined,
          apiKey: request.headers.get('x-api-key') ?? undefined,
        });
        if (viewer.kind === 'anonymous' || viewer.kind === 'session') throw unauthenticated('Missing API key: send it as Authorization: Bearer cfk_… or X-API-Key');
        await enforceRequestRate(app.limiter, app.config.rateLimit, viewer, 'rest');
      } catch (err) {
        return fromError(err);
      }
      const data = allowedModels(app.config).map((id) => ({ id, object: 'model', created: STARTED, owned_by: 'confab' }));
      return Response.json({ object: 'list', data });
    },
  },
];
