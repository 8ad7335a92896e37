import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { AppServices } from '../../context.ts';
import { credentialsFor } from '../providerkeys/providerkeys.service.ts';
import { allowedModels, providerFor, providerNameFor, type GenerateChunk, type ProviderMessage, type TokenUsage } from '../chat/providers/index.ts';
import { estimateMessagesTokens, estimateTokens } from '../chat/tokens.ts';
import { assertOrgModel } from '../usage/plan-models.ts';
import { recordTokens, reserveMessage } from '../usage/usage.service.ts';
import { restCaller } from './openai.auth.ts';
import { fromError, openaiError } from './openai.errors.ts';
import { openaiUsage, streamResponse } from './openai.sse.ts';

const content = z.union([
  z.string(),
  z.array(z.object({ type: z.string(), text: z.string().optional() }).passthrough()).transform((parts) => parts.map((p) => p.text ?? '').join('')),
  z.null().transform(() => ''),
]);
const body = z.object({
  model: z.string().min(1).optional(),
  messages: z
    .array(z.object({ role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']), content }).passthrough())
    .min(1, 'must hold at least one message'),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().nullish() }).passthrough().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  max_tokens: z.number().int().positive().nullish(),
  max_completion_tokens: z.number().int().positive().nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(4)]).nullish(),
});

const asProviderMessages = (messages: z.output<typeof body>['messages']): ProviderMessage[] =>
  messages.map((m) => ({
    role: m.role === 'system' || m.role === 'developer' ? 'system' : m.role === 'assistant' ? 'assistant' : 'user',
    content: m.content,
  }));

/**
 * `POST /v1/chat/completions`: the client sends the whole conversation (nothing is stored), the reply
 * comes whole or as SSE chunks. Metered like GraphQL chat: one message against the org's daily quota,
 * tokens recorded per user and model; the org's BYOK key pays.
 */
export async function chatCompletions(request: Request, app: AppServices): Promise<Response> {
  let json: unknown;
  try {
    json = await request.json();
  } catch {
    return openaiError(400, 'The body must be JSON', 'invalid_request_error');
  }
  try {
    const caller = await restCaller(app, request);
    const parsed = body.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return openaiError(400, `${issue.path.join('.') || 'body'}: ${issue.message}`, 'invalid_request_error');
    }
    const req = parsed.data;
    const model = req.model ?? app.config.models.default;
    if (!allowedModels(app.config).includes(model)) {
      return openaiError(404, `The model \`${model}\` does not exist or you do not have access to it.`, 'invalid_request_error', 'model_not_found');
    }
    await assertOrgModel(app, caller.orgId, model);
    const name = providerNameFor(app.config, model);
    const provider = providerFor(app.config, name);
    const creds = await credentialsFor(app, caller.orgId, name, provider.needsKey);
    await reserveMessage(app, caller.orgId, caller.userId, model);

    const messages = asProviderMessages(req.messages);
    const controller = new AbortController();
    request.signal?.addEventListener('abort', () => controller.abort(), { once: true });
    const options = {
      temperature: req.temperature ?? undefined,
      topP: req.top_p ?? undefined,
      maxTokens: req.max_completion_tokens ?? req.max_tokens ?? undefined,
      stop: req.stop == null ? undefined : Array.isArray(req.stop) ? req.stop : [req.stop],
    };
    const chunks = provider.generate({ model, messages, signal: controller.signal, options, ...creds })[Symbol.asyncIterator]();
    const meter = async (text: string, usage?: TokenUsage) => {
      const spent = usage ?? { promptTokens: estimateMessagesTokens(messages), completionTokens: estimateTokens(text) };
      await recordTokens(caller.orgId, caller.userId, model, spent).catch((err) => app.log.error({ err }, 'usage not recorded'));
      return spent;
    };
    // The first chunk is awaited before answering, so a provider that fails at once gets a clean 502.
    let first: IteratorResult<GenerateChunk>;
    try {
      first = await chunks.next();
    } catch (err) {
      await meter('');
      return openaiError(502, (err as Error).message, 'api_error', 'upstream_error');
    }
    const id = `chatcmpl-${randomBytes(12).toString('hex')}`;
    const created = Math.floor(Date.now() / 1000);
    if (req.stream) return streamResponse({ id, created, model, first, chunks, meter, includeUsage: !!req.stream_options?.include_usage, log: app.log });

    let text = '';
    let usage: TokenUsage | undefined;
    try {
      for (let r = first; !r.done; r = await chunks.next()) {
        if ('usage' in r.value) usage = r.value.usage;
        else text += r.value.delta;
      }
    } catch (err) {
      await meter(text, usage);
      return openaiError(502, (err as Error).message, 'api_error', 'upstream_error');
    }
    const spent = await meter(text, usage);
    return Response.json({
      id,
      object: 'chat.completion',
      created,
      model,
      choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, logprobs: null, finish_reason: 'stop' }],
      usage: openaiUsage(spent),
    });
  } catch (err) {
    return fromError(err);
  }
}
