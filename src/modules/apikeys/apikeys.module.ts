import { defineModule } from '../../app-module.ts';
import { apiKeyCredentials } from './apikeys.credentials.ts';
import { apiKeysPermissions } from './apikeys.permissions.ts';
import './apikeys.schema.ts';

/** An org's API keys (`cfk_…`), and the credential resolver that turns one into a viewer. */
export const apiKeysModule = defineModule({ name: 'apikeys', permissions: apiKeysPermissions, credentials: [apiKeyCredentials] });
