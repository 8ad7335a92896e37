import { defineModule } from '../../app-module.ts';
import { invoicesPermissions } from './invoices.permissions.ts';
import './invoices.schema.ts';

/** Lightning invoices for prepaid sessions (the payment backend and its worker: the lightning module). */
export const invoicesModule = defineModule({ name: 'invoices', permissions: invoicesPermissions, topics: ['invoice:updated'] });
