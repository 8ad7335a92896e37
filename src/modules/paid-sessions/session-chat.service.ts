import { encodeGlobalID } from '@pothos/plugin-relay';
import { z } from 'zod';
import { actingUserId } from '../../auth/viewer.ts';
import type { AppServices, Context } from '../../context.ts';
import { db } from '../../db/client.ts';
import { appError, badInput, parseInput } from '../../errors.ts';
import { runChatTurn } from '../chat/chat.service.ts';
import type { ChatTurnHooks, TurnInfo } from '../chat/chat.turn.ts';
import type { SessionHooksFactory } from '../chat/hooks.ts';
import { MAX_MESSAGE_CHARS } from '../chat/threadchat.service.ts';
import { liveSession } from './paid-sessions.service.ts';
import { screen } from './screening.ts';
import { reconcile, reserve, type Hold, type Outcome } from './spend.ts';

const NO_TOKENS = { promptTokens: 0, completionTokens: 0 };

/**
 * The money side of one turn on a prepaid session: hold (and screen) before the work, price and
 * debit after it. `finish` gives a hold back when the turn ended without reaching afterGenerate.
 */
export class PrepaidTurn implements ChatTurnHooks {
  hold?: Hold;
  private screening: Outcome['screening'] = null;
  private model = '';
  private outcome?: Outcome;

  constructor(
    private readonly app: AppServices,
    private readonly sessionId: string,
  ) {}

  beforeGenerate = async (turn: TurnInfo) => {
    this.model = turn.model;
    this.hold = await reserve(this.app, this.sessionId, turn.model);
    // Sessions whose owner (or Nostr key) has a trust tier that reaches [trust] unscreened_tier skip it.
    if (!this.app.config.screening.enabled || this.hold.skipScreening) return;
    const verdict = await screen(this.app, turn.content, turn.orgId);
    this.screening = verdict.usage;
    if (verdict.accepted) return;
    await reconcile(this.app, this.hold, { status: 'REJECTED', model: turn.model, work: NO_TOKENS, screening: verdict.usage, reason: verdict.reason });
    throw appError('FORBIDDEN', `Screening declined this request: ${verdict.reason}`, {
      reason: 'SCREENING_REJECTED',
      screeningReason: verdict.reason,
      requestId: encodeGlobalID('SessionRequest', this.hold.requestId),
    });
  };

  afterGenerate = async (turn: TurnInfo & { usage: Outcome['work']; status: 'COMPLETE' | 'FAILED'; assistantMessageId: string }) => {
    if (!this.hold) return;
    this.outcome = {
      status: turn.status === 'COMPLETE' ? 'COMPLETED' : 'FAILED',
      model: turn.model,
      work: turn.usage,
      screening: this.screening,
      messageId: turn.assistantMessageId,
      error: turn.status === 'FAILED' ? 'The reply failed or was cancelled' : null,
    };
    await reconcile(this.app, this.hold, this.outcome);
  };

  /**
   * Reconciling is idempotent: after a successful afterGenerate this does nothing. If afterGenerate's
   * debit failed (its errors are only logged), the work that was done is debited here; a turn that
   * never got that far gives its hold back. Throws when the debit cannot be stored, so that a reply is
   * never acknowledged with its request still PENDING.
   */
  async finish(error: unknown) {
    if (!this.hold) return;
    await reconcile(
      this.app,
      this.hold,
      this.outcome ?? {
        status: 'FAILED',
        model: this.model,
        work: NO_TOKENS,
        screening: this.screening,
        error: error ? String((error as Error).message ?? error) : 'The turn ended early',
      },
    );
  }
}

// Thread turns whose current session is prepaid spend from it.
export const prepaidSessionHooks: SessionHooksFactory = (ctx, session) => (session.prepaid ? new PrepaidTurn(ctx.app, session.id) : undefined);

const sendInput = z.object({
  content: z.string().trim().min(1, 'is required').max(MAX_MESSAGE_CHARS),
  model: z.string().trim().max(200).nullish(),
  clientMsgId: z.string().trim().min(1).max(100).nullish(),
});

/**
 * A chat turn in a standalone prepaid session, streamed on sessionEvents like a thread's on
 * threadEvents, and paid from the balance. A retry with the same clientMsgId returns the first turn
 * and is not charged again.
 */
export async function sendSessionMessage(ctx: Context, sessionId: string, input: unknown) {
  const data = parseInput(sendInput, input);
  const session = await liveSession(ctx, sessionId);
  if (session.threadId) throw badInput('This session belongs to a thread: send with sendThreadMessage', 'sessionId');
  const turn = new PrepaidTurn(ctx.app, session.id);
  let failure: unknown;
  try {
    const result = await runChatTurn({
      app: ctx.app,
      session,
      threadId: null,
      orgId: null,
      authorId: actingUserId(ctx.viewer) ?? null,
      content: data.content,
      model: data.model,
      clientMsgId: data.clientMsgId,
      publish: (event) => ctx.app.pubsub.publish('session:event', session.id, event),
      hooks: [turn],
    });
    // Settled before answering: the response shows the request as debited, never PENDING.
    await turn.finish(undefined);
    // A retry is not charged: it shows the first turn's request (once that turn has been priced).
    const request = result.deduplicated
      ? await db.sessionRequest.findFirst({ where: { sessionId, messageId: result.assistantMessage.id } })
      : await db.sessionRequest.findUnique({ where: { id: turn.hold!.requestId } });
    return { ...result, request };
  } catch (err) {
    failure = err;
    throw err;
  } finally {
    await turn.finish(failure);
  }
}
