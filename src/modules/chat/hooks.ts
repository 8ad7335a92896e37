import type { Context } from '../../context.ts';
import type { Session } from '../../generated/sqlite/client.ts';
import type { ChatTurnHooks } from './chat.service.ts';

/** Gives hooks for a turn in this session, or nothing. */
export type SessionHooksFactory = (ctx: Context, session: Session) => ChatTurnHooks | undefined | Promise<ChatTurnHooks | undefined>;

const factories: SessionHooksFactory[] = [];

/**
 * Lets another domain wrap thread turns without editing the chat domain: the prepaid domain
 * (issue 5) registers a factory that returns balance checks and debits when `session.prepaid`.
 * Register at module load (import side effect of the domain's schema file).
 */
export function registerSessionHooks(factory: SessionHooksFactory) {
  factories.push(factory);
}

export async function sessionHooks(ctx: Context, session: Session): Promise<ChatTurnHooks[]> {
  const hooks = await Promise.all(factories.map((f) => f(ctx, session)));
  return hooks.filter((h): h is ChatTurnHooks => !!h);
}
