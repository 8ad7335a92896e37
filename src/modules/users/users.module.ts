import { defineModule } from '../../app-module.ts';
import { usersPermissions } from './users.permissions.ts';
import './users.schema.ts';
import './blocks.schema.ts';

/** Accounts: register, login, access and refresh tokens, logout, `me`. */
export const usersModule = defineModule({ name: 'users', permissions: usersPermissions });
