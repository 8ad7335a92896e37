import { defineModule } from '../../app-module.ts';
import { kvSystemPrompt } from './kv.attach.ts';
import { kvPermissions } from './kv.permissions.ts';
import { kvThreadTools } from './kv.tools.ts';
import './kv.schema.ts';
import './kv.events.schema.ts';
import './kv.ai.schema.ts';

/** KV instances: typed keys, their live events, AI transforms, and the tools and prompts they give threads. */
export const kvModule = defineModule({
  name: 'kv',
  permissions: kvPermissions,
  topics: ['kv:event'],
  // The keys of instances attached to a thread: its `SystemPrompt` keys in the prompt, read/write tools for the model.
  chat: { systemPrompt: kvSystemPrompt, threadTools: kvThreadTools },
});
