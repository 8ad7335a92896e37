import type { AppModule } from '../index.ts';
import { billingRoutes } from './billing.routes.ts';

/** Plans set by a billing provider's signed webhook. */
export const billingModule: AppModule = { name: 'billing', routes: billingRoutes };
