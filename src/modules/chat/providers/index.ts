import type { Config } from '../../../config.ts';
import { badInput } from '../../../errors.ts';
import { echoProvider } from './echo.ts';
import { openaiProvider } from './openai.ts';
import type { ChatProvider, ProviderName } from './types.ts';

export * from './types.ts';

/** The provider that serves a model: `[models.providers]` in config, else echo for `echo*`, else openai. */
export function providerNameFor(config: Config, model: string): ProviderName {
  return config.models.providers[model] ?? (model.startsWith('echo') ? 'echo' : 'openai');
}

const cache = new WeakMap<Config, Map<ProviderName, ChatProvider>>();

/** One provider instance per config (so per app), made on first use. */
export function providerFor(config: Config, name: ProviderName): ChatProvider {
  let byName = cache.get(config);
  if (!byName) cache.set(config, (byName = new Map()));
  let provider = byName.get(name);
  if (!provider) {
    provider = name === 'echo' ? echoProvider(config.providers.echo) : openaiProvider(config.providers.openai);
    byName.set(name, provider);
  }
  return provider;
}

/** Models clients may ask for: the allowed list, with the default first. */
export function allowedModels(config: Config): string[] {
  return [...new Set([config.models.default, ...config.models.allowed])];
}

/** The model a request runs on; naming one that config does not allow is BAD_USER_INPUT. */
export function resolveModel(config: Config, requested?: string | null): string {
  const model = requested?.trim() || config.models.default;
  if (!allowedModels(config).includes(model)) {
    throw badInput(`Model "${model}" is not available; allowed: ${allowedModels(config).join(', ')}`, 'model');
  }
  return model;
}

/**
 * Does this model take images (models.vision: exact names, or prefixes ending in `*`)? A thread message's
 * image attachments go to such a model as image parts; any other model gets a note naming them.
 */
export function supportsVision(config: Config, model: string): boolean {
  return config.models.vision.some((entry) => (entry.endsWith('*') ? model.startsWith(entry.slice(0, -1)) : model === entry));
}
