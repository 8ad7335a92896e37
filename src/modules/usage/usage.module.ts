import { defineModule } from '../../app-module.ts';
import { usagePermissions } from './usage.permissions.ts';
import './usage.schema.ts';

/** An org's token usage: its plan's daily limit, what is used, the records per day and model. */
export const usageModule = defineModule({ name: 'usage', permissions: usagePermissions });
