import { defineModule } from '../../app-module.ts';
import { providerKeysPermissions } from './providerkeys.permissions.ts';
import './providerkeys.schema.ts';

/** An org's own model provider keys (BYOK), stored encrypted. */
export const providerKeysModule = defineModule({ name: 'providerkeys', permissions: providerKeysPermissions });
