import { defineModule } from '../../app-module.ts';
import { openaiRoutes } from './openai.routes.ts';

/** The OpenAI-compatible REST API beside GraphQL, for tools that already speak it. */
export const openaiModule = defineModule({ name: 'openai', routes: openaiRoutes });
