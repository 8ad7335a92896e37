import { defineModule } from '../../app-module.ts';
import { billingPermissions } from './billing.permissions.ts';
import { billingRoutes } from './billing.routes.ts';
import './billing.schema.ts';

/** Plans set by a billing provider's signed webhook. */
export const billingModule = defineModule({ name: 'billing', permissions: billingPermissions, routes: billingRoutes });
