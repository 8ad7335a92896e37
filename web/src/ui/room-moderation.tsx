import { useState } from 'preact/hooks';
import { useMutation, useQuery } from '@urql/preact';
import { graphql } from '../gql';
import type { RoomRole, WebPinnedMessageFragment, WebRoomMemberFragment } from '../gql/graphql';
import { DURATIONS, expiryFrom, roomPowers } from './roles';
import { useApp } from './shell';
import { errorText, time } from './util';

graphql(`
  fragment WebRoomMember on RoomMember {
    id role lastReadSeq muted muteExpiresAt user { id name presence avatarUrl viewerBlocked }
  }
`);
const SetRole = graphql(`
  mutation WebSetRoomMemberRole($input: SetRoomMemberRoleInput!) { setRoomMemberRole(input: $input) { ...WebRoomMember } }
`);
const Mute = graphql(`
  mutation WebMuteRoomMember($input: MuteRoomMemberInput!) { muteRoomMember(input: $input) { id expiresAt } }
`);
const Unmute = graphql(`
  mutation WebUnmuteRoomMember($input: UnmuteRoomMemberInput!) { unmuteRoomMember(input: $input) { deletedId } }
`);
const Ban = graphql(`
  mutation WebBanRoomMember($input: BanRoomMemberInput!) { banRoomMember(input: $input) { id expiresAt } }
`);
const Unban = graphql(`
  mutation WebUnbanRoomMember($input: UnbanRoomMemberInput!) { unbanRoomMember(input: $input) { deletedId } }
`);
const Remove = graphql(`
  mutation WebRemoveRoomMember($input: RemoveRoomMemberInput!) { removeRoomMember(input: $input) { deletedId } }
`);
const Block = graphql(`
  mutation WebBlockUser($input: BlockUserInput!) { blockUser(input: $input) { id viewerBlocked } }
`);
const Unblock = graphql(`
  mutation WebUnblockUser($input: UnblockUserInput!) { unblockUser(input: $input) { id viewerBlocked } }
`);
const Bans = graphql(`
  query WebRoomBans($id: ID!) {
    room(id: $id) { id bans(first: 100) { edges { node { id reason expiresAt createdAt user { id name } bannedBy { id name } } } } }
  }
`);
const Freeze = graphql(`
  mutation WebSetRoomFrozen($input: SetRoomFrozenInput!) { setRoomFrozen(input: $input) { id frozen viewerCanSend } }
`);
const Archive = graphql(`
  mutation WebArchiveRoom($input: ArchiveRoomInput!) { archiveRoom(input: $input) { id archivedAt viewerCanSend } }
`);
const Unarchive = graphql(`
  mutation WebUnarchiveRoom($input: UnarchiveRoomInput!) { unarchiveRoom(input: $input) { id archivedAt viewerCanSend } }
`);
const DeleteRoom = graphql(`
  mutation WebDeleteRoom($input: DeleteRoomInput!) { deleteRoom(input: $input) { deletedId } }
`);
const Unpin = graphql(`
  mutation WebUnpinMessage($input: UnpinMessageInput!) { unpinMessage(input: $input) { id pinnedAt } }
`);

export interface RoomInfo {
  id: string;
  name?: string | null;
  type: string;
  frozen: boolean;
  archivedAt?: string | null;
  viewerRole?: RoomRole | null;
}

/** A small round avatar, or nothing when the user has none. */
export function Avatar({ user }: { user: { name: string; avatarUrl?: string | null } }) {
  return user.avatarUrl ? <img class="avatar" src={user.avatarUrl} alt={`${user.name}'s avatar`} width={24} height={24} /> : null;
}

/**
 * The room's members with their role, presence and, for those the viewer outranks, what the viewer's
 * role allows: role, mute / unmute, ban, remove. Everyone may block anyone else.
 */
export function MembersPanel({ room, members, onChanged }: { room: RoomInfo; members: WebRoomMemberFragment[]; onChanged(): void }) {
  const app = useApp();
  const powers = roomPowers(room.viewerRole, room.type, app.orgRole);
  return (
    <section class="panel" aria-label="Room members">
      <h3>Members</h3>
      <ul class="member-list">
        {members.map((m) => (
          <MemberRow key={m.id} room={room} member={m} powers={powers} me={m.user.id === app.me.id} onChanged={onChanged} />
        ))}
      </ul>
      {powers.moderate && <BansList roomId={room.id} canUnban={powers.admin} />}
    </section>
  );
}

function MemberRow({ room, member: m, powers, me, onChanged }: { room: RoomInfo; member: WebRoomMemberFragment; powers: ReturnType<typeof roomPowers>; me: boolean; onChanged(): void }) {
  const app = useApp();
  const [error, setError] = useState('');
  const [form, setForm] = useState<'mute' | 'ban' | null>(null);
  const [, setRole] = useMutation(SetRole);
  const [, mute] = useMutation(Mute);
  const [, unmute] = useMutation(Unmute);
  const [, ban] = useMutation(Ban);
  const [, remove] = useMutation(Remove);
  const [, block] = useMutation(Block);
  const [, unblock] = useMutation(Unblock);
  const status = app.presence[m.user.id] ?? m.user.presence;
  const canAct = !me && powers.outranks(m.role);
  const done = (r: { error?: Parameters<typeof errorText>[0] }) => {
    if (r.error) setError(errorText(r.error));
    else (setError(''), setForm(null), onChanged());
  };
  const who = { roomId: room.id, userId: m.user.id };

  return (
    <li data-user={m.user.id} aria-label={m.user.name}>
      <span class={`dot ${status.toLowerCase()}`} role="img" aria-label={status} /> <Avatar user={m.user} /> <span class="name">{m.user.name}</span>{' '}
      {powers.admin && canAct ? (
        <label>
          <span class="sr-only">Role of {m.user.name}</span>
          <select
            value={m.role}
            onChange={async (e) => {
              const role = (e.target as HTMLSelectElement).value as RoomRole;
              if (role === 'OWNER' && !confirm(`Make ${m.user.name} the owner? You become an admin.`)) return;
              done(await setRole({ input: { ...who, role } }));
            }}
          >
            <option value={m.role}>{m.role}</option>
            {powers.assignable.filter((r) => r !== m.role).map((r) => (
              <option value={r}>{r}</option>
            ))}
          </select>
        </label>
      ) : (
        <small class="role">{m.role}</small>
      )}
      {m.muted && <small class="muted-tag"> muted{m.muteExpiresAt ? ` until ${time(m.muteExpiresAt)}` : ''}</small>}
      <span class="member-actions" role="group" aria-label={`Actions for ${m.user.name}`}>
        {powers.moderate && canAct && (m.muted ? (
          <button onClick={async () => done(await unmute({ input: who }))}>Unmute</button>
        ) : (
          <button aria-expanded={form === 'mute'} onClick={() => setForm(form === 'mute' ? null : 'mute')}>Mute</button>
        ))}
        {powers.admin && canAct && <button aria-expanded={form === 'ban'} onClick={() => setForm(form === 'ban' ? null : 'ban')}>Ban</button>}
        {powers.admin && canAct && (
          <button onClick={async () => confirm(`Remove ${m.user.name} from the room?`) && done(await remove({ input: who }))}>Remove</button>
        )}
        {!me &&
          (m.user.viewerBlocked ? (
            <button onClick={async () => done(await unblock({ input: { userId: m.user.id } }))}>Unblock</button>
          ) : (
            <button onClick={async () => done(await block({ input: { userId: m.user.id } }))}>Block</button>
          ))}
      </span>
      {form && (
        <form
          class="inline-form"
          aria-label={`${form === 'mute' ? 'Mute' : 'Ban'} ${m.user.name}`}
          onSubmit={async (e) => {
            e.preventDefault();
            const f = new FormData(e.currentTarget as HTMLFormElement);
            const reason = String(f.get('reason') ?? '').trim() || null;
            const input = { ...who, reason, expiresAt: expiryFrom(String(f.get('duration'))) };
            done(await (form === 'mute' ? mute({ input }) : ban({ input })));
          }}
        >
          <label>
            Duration{' '}
            <select name="duration">
              {DURATIONS.map((d, i) => (
                <option value={String(i)}>{d.label}</option>
              ))}
            </select>
          </label>
          <label>
            Reason (optional) <input name="reason" maxLength={1000} />
          </label>
          <button type="submit">{form === 'mute' ? 'Mute' : 'Ban'} {m.user.name}</button>
          <button type="button" onClick={() => setForm(null)}>Cancel</button>
        </form>
      )}
      {error && <p role="alert">{error}</p>}
    </li>
  );
}

/** Active bans of the room (MODERATOR+ see them; ADMIN+ may lift them). */
function BansList({ roomId, canUnban }: { roomId: string; canUnban: boolean }) {
  const [{ data, error }, refetch] = useQuery({ query: Bans, variables: { id: roomId }, requestPolicy: 'cache-and-network' });
  const [unbanned, unban] = useMutation(Unban);
  const bans = data?.room?.bans.edges.map((e) => e.node) ?? [];
  return (
    <details class="bans">
      <summary onClick={() => refetch({ requestPolicy: 'network-only' })}>Banned ({bans.length})</summary>
      {error && <p role="alert">{errorText(error)}</p>}
      {bans.length === 0 ? (
        <p>Nobody is banned.</p>
      ) : (
        <ul aria-label="Banned">
          {bans.map((b) => (
            <li>
              {b.user?.name ?? 'Deleted user'}{' '}
              <small>
                by {b.bannedBy?.name ?? 'the server'} {b.expiresAt ? `until ${new Date(b.expiresAt).toLocaleString()}` : 'until lifted'}
                {b.reason ? ` — ${b.reason}` : ''}
              </small>{' '}
              {canUnban && b.user && (
                <button
                  onClick={async () => {
                    const r = await unban({ input: { roomId, userId: b.user!.id } });
                    if (!r.error) refetch({ requestPolicy: 'network-only' });
                  }}
                >
                  Unban {b.user!.name}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {unbanned.error && <p role="alert">{errorText(unbanned.error)}</p>}
    </details>
  );
}

/** Freeze / unfreeze, archive / unarchive and delete, for those whose role allows each. */
export function RoomSettings({ room, onChanged, onDeleted }: { room: RoomInfo; onChanged(): void; onDeleted(): void }) {
  const app = useApp();
  const powers = roomPowers(room.viewerRole, room.type, app.orgRole);
  const [error, setError] = useState('');
  const [, freeze] = useMutation(Freeze);
  const [, archive] = useMutation(Archive);
  const [, unarchive] = useMutation(Unarchive);
  const [, del] = useMutation(DeleteRoom);
  if (!powers.admin && !powers.delete) return null;
  const done = (r: { error?: Parameters<typeof errorText>[0] }) => (r.error ? setError(errorText(r.error)) : (setError(''), onChanged()));
  return (
    <div class="room-settings" role="group" aria-label="Room settings">
      {powers.admin && (
        <button aria-pressed={room.frozen} onClick={async () => done(await freeze({ input: { roomId: room.id, frozen: !room.frozen } }))}>
          {room.frozen ? 'Unfreeze' : 'Freeze'}
        </button>
      )}
      {powers.admin &&
        (room.archivedAt ? (
          <button onClick={async () => done(await unarchive({ input: { roomId: room.id } }))}>Unarchive</button>
        ) : (
          <button onClick={async () => done(await archive({ input: { roomId: room.id } }))}>Archive</button>
        ))}
      {powers.delete && (
        <button
          class="danger"
          onClick={async () => {
            if (!confirm(`Delete ${room.name ?? 'this room'} and all its messages? This cannot be undone.`)) return;
            const r = await del({ input: { roomId: room.id } });
            if (r.error) setError(errorText(r.error));
            else onDeleted();
          }}
        >
          Delete room
        </button>
      )}
      {error && <p role="alert">{error}</p>}
    </div>
  );
}

/** The room's pinned messages, newest pin first: jump to one, or unpin it (moderators). */
export function PinnedList({ pinned, canUnpin, onJump, onChanged }: { pinned: WebPinnedMessageFragment[]; canUnpin: boolean; onJump(m: WebPinnedMessageFragment): void; onChanged(): void }) {
  const [unpinned, unpin] = useMutation(Unpin);
  if (!pinned.length) return null;
  return (
    <section class="pinned" aria-label="Pinned messages">
      <h3>Pinned ({pinned.length})</h3>
      <ul>
        {pinned.map((m) => (
          <li>
            <strong>{m.author.name}:</strong> {m.hiddenForViewer ? <em>Message from a blocked user</em> : m.deleted ? <em>Message deleted</em> : m.content}{' '}
            <button onClick={() => onJump(m)}>Jump</button>
            {canUnpin && (
              <button
                onClick={async () => {
                  const r = await unpin({ input: { messageId: m.id } });
                  if (!r.error) onChanged();
                }}
              >
                Unpin
              </button>
            )}
          </li>
        ))}
      </ul>
      {unpinned.error && <p role="alert">{errorText(unpinned.error)}</p>}
    </section>
  );
}
