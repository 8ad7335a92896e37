import { z } from 'zod';
import { actingUserId } from '../../auth/viewer.ts';
import type { Context } from '../../context.ts';
import { db } from '../../db/client.ts';
import { badInput, forbidden, parseInput, providerFailed } from '../../errors.ts';
import { providerFor, providerNameFor, ProviderError, resolveModel, type ChatProvider, type TokenUsage } from '../chat/providers/index.ts';
import { credentialsFor } from '../providerkeys/providerkeys.service.ts';
import { assertQuotaLeft, recordTokens, reserveMessage } from '../usage/usage.service.ts';
import { instanceAccess, loadInstanceRow } from './kv.access.ts';
import { setKey } from './kv.keys.ts';
import { resolveTemplate, textOrKey } from './kv.template.ts';
import type { KvKeyJson } from './kv.topics.ts';

const text = (max: number) => z.string().max(max).nullish();
const base = { outputKey: z.string().trim().min(1, 'is required').max(200), model: z.string().trim().max(200).nullish(), promptKey: text(200), prompt: text(32_000) };
const transformInput = z.object({ ...base, template: text(200_000), templateKey: text(200) });
const imageInput = z.object(base);
const analyzeInput = z.object({ ...base, imageKey: text(200), imageUrl: z.url().max(4000).nullish() });

type Call = (provider: ChatProvider, creds: { apiKey?: string; baseUrl?: string }) => Promise<{ value: string; usage?: TokenUsage; type: 'TEXT' | 'IMAGE'; contentType?: string }>;

/**
 * What every AI operation over keys shares with chat: the model's provider and credentials (BYOK, else
 * the server's), the org's daily quota (one message per operation), tokens recorded as usage. The
 * provider runs before anything is written; its failure is a PROVIDER_ERROR and writes nothing. The
 * result is written to `outputKey` by the caller's rights (a readonly output key needs ADMIN), checked
 * before the provider is paid.
 */
async function runOperation(ctx: Context, instanceId: string, outputKey: string, model: string, needs: 'generateImage' | 'analyzeImage' | null, call: Call): Promise<KvKeyJson> {
  const { app } = ctx;
  const row = (await loadInstanceRow(ctx, instanceId))!;
  const access = (await instanceAccess(ctx, instanceId))!;
  const userId = actingUserId(ctx.viewer);
  if (!userId) throw forbidden();
  const providerName = providerNameFor(app.config, model);
  const provider = providerFor(app.config, providerName);
  if (needs && !provider[needs]) throw badInput(`Model "${model}" (provider ${providerName}) cannot ${needs === 'generateImage' ? 'generate' : 'analyze'} images`, 'model');
  const existing = await db.kvKey.findUnique({ where: { instanceId_name: { instanceId, name: outputKey } }, select: { readonly: true } });
  if (existing?.readonly && access !== 'ADMIN') throw forbidden(`Key "${outputKey}" is readonly: only an ADMIN may write it`);
  const creds = await credentialsFor(app, row.orgId, providerName, provider.needsKey);
  await assertQuotaLeft(app, row.orgId, model);
  await reserveMessage(app, row.orgId, userId, model);
  let result: Awaited<ReturnType<Call>>;
  try {
    result = await call(provider, { apiKey: creds.apiKey, baseUrl: creds.baseUrl });
  } catch (err) {
    if (err instanceof ProviderError) throw providerFailed(err.message);
    throw err;
  }
  if (result.usage) await recordTokens(row.orgId, userId, model, result.usage);
  return setKey(app, instanceId, { userId, access }, { name: outputKey, value: result.value, type: result.type, contentType: result.contentType ?? null });
}

/** Resolves the template's `{{keys}}`, runs it through the model with the prompt as system message, stores the answer. */
export async function transformKv(ctx: Context, instanceId: string, input: unknown): Promise<KvKeyJson> {
  const data = parseInput(transformInput, input);
  const template = await resolveTemplate(instanceId, (await textOrKey(instanceId, data.template, data.templateKey, 'template', true))!, 'template');
  const promptText = await textOrKey(instanceId, data.prompt, data.promptKey, 'prompt', false);
  const prompt = promptText ? await resolveTemplate(instanceId, promptText, 'prompt') : null;
  const model = resolveModel(ctx.app.config, data.model);
  return runOperation(ctx, instanceId, data.outputKey, model, null, async (provider, creds) => {
    let out = '';
    let usage: TokenUsage | undefined;
    const messages = [...(prompt ? [{ role: 'system' as const, content: prompt }] : []), { role: 'user' as const, content: template }];
    for await (const chunk of provider.generate({ model, messages, ...creds })) {
      if ('usage' in chunk) usage = chunk.usage;
      else out += chunk.delta;
    }
    return { value: out, usage, type: 'TEXT' };
  });
}

/** Generates an image from the prompt (with `{{keys}}` resolved) and stores it as an IMAGE key. */
export async function generateKvImage(ctx: Context, instanceId: string, input: unknown): Promise<KvKeyJson> {
  const data = parseInput(imageInput, input);
  const prompt = await resolveTemplate(instanceId, (await textOrKey(instanceId, data.prompt, data.promptKey, 'prompt', true))!, 'prompt');
  const models = ctx.app.config.kv.imageModels;
  const model = data.model ?? models[0];
  if (!model || !models.includes(model)) throw badInput(`Image model "${model}" is not available; allowed: ${models.join(', ')}`, 'model');
  return runOperation(ctx, instanceId, data.outputKey, model, 'generateImage', async (provider, creds) => {
    const image = await provider.generateImage!({ model, prompt, ...creds });
    return { value: image.base64, type: 'IMAGE', contentType: image.contentType };
  });
}

/** Describes an IMAGE key (or an image URL) with a vision model and stores the text. */
export async function analyzeKvImage(ctx: Context, instanceId: string, input: unknown): Promise<KvKeyJson> {
  const data = parseInput(analyzeInput, input);
  if ((data.imageKey == null) === (data.imageUrl == null)) throw badInput('Give exactly one of imageKey or imageUrl', 'imageKey');
  let imageUrl = data.imageUrl ?? '';
  if (data.imageKey != null) {
    const key = await db.kvKey.findUnique({ where: { instanceId_name: { instanceId, name: data.imageKey } } });
    if (!key || key.type !== 'IMAGE' || typeof key.value !== 'string') throw badInput(`imageKey: "${data.imageKey}" is not an IMAGE key of this instance`, 'imageKey');
    imageUrl = key.value.startsWith('data:') ? key.value : `data:${key.contentType ?? 'image/png'};base64,${key.value}`;
  }
  const promptText = (await textOrKey(instanceId, data.prompt, data.promptKey, 'prompt', false)) ?? 'Describe this image.';
  const prompt = await resolveTemplate(instanceId, promptText, 'prompt');
  const model = resolveModel(ctx.app.config, data.model);
  return runOperation(ctx, instanceId, data.outputKey, model, 'analyzeImage', async (provider, creds) => {
    const r = await provider.analyzeImage!({ model, prompt, imageUrl, ...creds });
    return { value: r.text, usage: r.usage, type: 'TEXT' };
  });
}
