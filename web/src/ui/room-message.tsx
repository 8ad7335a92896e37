import { useState } from 'preact/hooks';
import { useMutation } from '@urql/preact';
import { graphql } from '../gql';
import type { WebRoomMessageFragment } from '../gql/graphql';
import { time } from './util';

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

const QUICK = ['👍', '🎉', '❤️'];

/** A message with its reactions, read receipts, and (for its sender) edit and delete. */
export function RoomMessageItem({
  message: m,
  mine,
  seenBy,
  onOpenReplies,
}: {
  message: WebRoomMessageFragment;
  mine: boolean;
  seenBy: string[];
  /** Top-level messages: opens the replies beside the room. */
  onOpenReplies?: () => void;
}) {
  const [editing, setEditing] = useState(false);
  const [, edit] = useMutation(Edit);
  const [, del] = useMutation(Delete);
  const [, react] = useMutation(React);
  const [, unreact] = useMutation(Unreact);
  const toggle = (emoji: string) => {
    const mineAlready = m.reactions.find((r) => r.emoji === emoji)?.reactedByViewer;
    (mineAlready ? unreact : react)({ input: { messageId: m.id, emoji } });
  };

  return (
    <li data-seq={m.seq} class={`${mine ? 'mine' : ''}${m.mentionsViewer ? ' mentioned' : ''}`}>
      <div class="meta">
        <strong>{m.author.name}</strong> <time dateTime={m.createdAt}>{time(m.createdAt)}</time>
        {m.editedAt && !m.deleted && <small> (edited)</small>}
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
        </div>
      )}
      {seenBy.length > 0 && <small class="seen">Seen by {seenBy.join(', ')}</small>}
    </li>
  );
}
