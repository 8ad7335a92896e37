import { useState } from 'preact/hooks';
import { useMutation } from '@urql/preact';
import { graphql } from '../gql';
import type { WebRoomMessageFragment } from '../gql/graphql';
import { errorText, time } from './util';

const Edit = graphql(`
  mutation WebEditMessage($input: EditMessageInput!) { editMessage(input: $input) { ...WebRoomMessage } }
`);
const Delete = graphql(`
  mutation WebDeleteMessage($input: DeleteMessageInput!) { deleteMessage(input: $input) { deletedId message { ...WebRoomMessage } } }
`);
const React = graphql(`
  mutation WebAddReaction($input: AddReactionInput!) { addReaction(input: $input) { ...WebRoomMessage } }
`);
const Unreact = graphql(`
  mutation WebRemoveReaction($input: RemoveReactionInput!) { removeReaction(input: $input) { ...WebRoomMessage } }
`);

const Pin = graphql(`
  mutation WebPinMessage($input: PinMessageInput!) { pinMessage(input: $input) { ...WebRoomMessage } }
`);
const Unpin = graphql(`
  mutation WebUnpinMessageItem($input: UnpinMessageInput!) { unpinMessage(input: $input) { ...WebRoomMessage } }
`);
const Report = graphql(`
  mutation WebReportMessage($input: ReportMessageInput!) { reportMessage(input: $input) { id status } }
`);

const QUICK = ['👍', '🎉', '❤️'];

/**
 * A message with its reactions, read receipts, and (for its sender) edit and delete; Pin / Unpin for
 * those who may pin, Report for everyone else's messages. A message from someone the viewer blocked
 * is collapsed until they ask to see it.
 */
export function RoomMessageItem({
  message: m,
  mine,
  seenBy,
  canPin,
  onOpenReplies,
}: {
  message: WebRoomMessageFragment;
  mine: boolean;
  seenBy: string[];
  canPin?: boolean;
  /** Top-level messages: opens the replies beside the room. */
  onOpenReplies?: () => void;
}) {
  const [editing, setEditing] = useState(false);
  const [shown, setShown] = useState(false);
  const [reporting, setReporting] = useState(false);
  const [reported, report] = useMutation(Report);
  const [pinned, pin] = useMutation(Pin);
  const [unpinned, unpin] = useMutation(Unpin);
  const [, edit] = useMutation(Edit);
  const [, del] = useMutation(Delete);
  const [, react] = useMutation(React);
  const [, unreact] = useMutation(Unreact);
  const toggle = (emoji: string) => {
    const mineAlready = m.reactions.find((r) => r.emoji === emoji)?.reactedByViewer;
    (mineAlready ? unreact : react)({ input: { messageId: m.id, emoji } });
  };

  if (m.hiddenForViewer && !shown)
    return (
      <li data-seq={m.seq} data-id={m.id} class="hidden-message">
        <em>Message from a blocked user</em> — <button onClick={() => setShown(true)}>Show</button>
      </li>
    );

  return (
    <li data-seq={m.seq} data-id={m.id} class={`${mine ? 'mine' : ''}${m.mentionsViewer ? ' mentioned' : ''}${m.pinnedAt ? ' pinned' : ''}`}>
      <div class="meta">
        <strong>{m.author.name}</strong> <time dateTime={m.createdAt}>{time(m.createdAt)}</time>
        {m.editedAt && !m.deleted && <small> (edited)</small>}
        {m.pinnedAt && !m.deleted && <small class="tag"> Pinned</small>}
      </div>
      {editing ? (
        <form
          aria-label="Edit message"
          onSubmit={async (e) => {
            e.preventDefault();
            const content = String(new FormData(e.currentTarget as HTMLFormElement).get('content'));
            await edit({ input: { messageId: m.id, content } });
            setEditing(false);
          }}
        >
          <label>
            Edit message{' '}
            <input name="content" value={m.content ?? ''} autoFocus onKeyDown={(e) => e.key === 'Escape' && setEditing(false)} />
          </label>
          <button type="submit">Save</button>
        </form>
      ) : (
        <p class="content">{m.deleted ? <em>Message deleted</em> : m.content}</p>
      )}
      {m.attachments.length > 0 && (
        <ul class="attachments" aria-label="Attachments">
          {m.attachments.map((a) => (
            <li>
              {a.isImage && a.url ? (
                <a href={a.url} target="_blank" rel="noreferrer">
                  <img src={a.url} alt={a.filename} width={a.width ?? undefined} height={a.height ?? undefined} loading="lazy" />
                </a>
              ) : (
                <a href={a.url ?? undefined} download={a.filename}>
                  {a.filename}
                </a>
              )}
            </li>
          ))}
        </ul>
      )}
      {!m.deleted && (
        <div class="actions" role="group" aria-label="Message actions">
          {[...new Set([...QUICK, ...m.reactions.map((r) => r.emoji)])].map((emoji) => {
            const r = m.reactions.find((x) => x.emoji === emoji);
            return (
              <button aria-pressed={!!r?.reactedByViewer} aria-label={`React ${emoji}${r ? ` (${r.count})` : ''}`} onClick={() => toggle(emoji)}>
                {emoji}
                {r ? ` ${r.count}` : ''}
              </button>
            );
          })}
          {onOpenReplies && (
            <button onClick={onOpenReplies}>{m.replyCount ? `${m.replyCount} ${m.replyCount === 1 ? 'reply' : 'replies'}` : 'Reply'}</button>
          )}
          {mine && <button onClick={() => setEditing(true)}>Edit</button>}
          {mine && <button onClick={() => del({ input: { messageId: m.id } })}>Delete</button>}
          {canPin &&
            (m.pinnedAt ? (
              <button onClick={() => unpin({ input: { messageId: m.id } })}>Unpin</button>
            ) : (
              <button onClick={() => pin({ input: { messageId: m.id } })}>Pin</button>
            ))}
          {!mine && !reported.data && (
            <button aria-expanded={reporting} onClick={() => setReporting(!reporting)}>Report</button>
          )}
          {reported.data && <small role="status">Reported</small>}
        </div>
      )}
      {reporting && !reported.data && (
        <form
          class="inline-form"
          aria-label="Report message"
          onSubmit={async (e) => {
            e.preventDefault();
            const reason = String(new FormData(e.currentTarget as HTMLFormElement).get('reason')).trim();
            if (!reason) return;
            const r = await report({ input: { messageId: m.id, reason } });
            if (r.data) setReporting(false);
          }}
        >
          <label>
            Why are you reporting this message? <input name="reason" required maxLength={1000} autoFocus />
          </label>
          <button type="submit">Send report</button>
          <button type="button" onClick={() => setReporting(false)}>Cancel</button>
        </form>
      )}
      {(reported.error || pinned.error || unpinned.error) && <p role="alert">{errorText(reported.error ?? pinned.error ?? unpinned.error)}</p>}
      {seenBy.length > 0 && <small class="seen">Seen by {seenBy.join(', ')}</small>}
    </li>
  );
}
