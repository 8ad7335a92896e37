import { useEffect, useRef, useState } from 'preact/hooks';
import { useClient, useMutation, useQuery } from '@urql/preact';
import { graphql } from '../gql';
import { Link, navigate } from '../router';
import { RoomView } from './room';
import { useApp } from './shell';
import { errorText } from './util';

const Rooms = graphql(`
  query WebRooms($orgId: ID!, $includeArchived: Boolean) {
    me { id unreadCount mentionCount rooms(first: 50, orgId: $orgId, includeArchived: $includeArchived) { edges { node { id name type archivedAt unreadCount mentionCount lastActivityAt lastMessage { seq content deleted author { name } } } } } }
    org(id: $orgId) { id members(first: 100) { edges { node { id user { id name } } } } }
  }
`);
const Inbox = graphql(`
  subscription WebInbox($after: String) {
    inbox(after: $after) {
      __typename
      ... on InboxMessageAdded { cursor seq snippet unreadCount mentionCount room { id } author { name } }
      ... on InboxRoomRead { cursor unreadCount mentionCount room { id } }
      ... on InboxRoomAdded { cursor }
      ... on InboxRoomRemoved { cursor }
      ... on InboxDirectRoomCreated { cursor }
      ... on InboxNotificationCreated { cursor }
      ... on InboxInviteReceived { cursor }
    }
  }
`);
const CreateRoom = graphql(`
  mutation WebCreateRoom($input: CreateRoomInput!) { createRoom(input: $input) { id name } }
`);

/** Rooms of the current org, most recent activity first, with unread badges; the open room beside. */
export function RoomsPage({ path }: { path: string }) {
  const app = useApp();
  const roomId = path.split('/')[2];
  const [showArchived, setShowArchived] = useState(false);
  const [{ data }, refetch] = useQuery({ query: Rooms, variables: { orgId: app.orgId!, includeArchived: showArchived } });
  // Why the room on screen went away (a ban, a removal, its deletion), until another room is opened.
  const [notice, setNotice] = useState<string | null>(null);
  useEffect(() => void (roomId && setNotice(null)), [roomId]);
  const [created, createRoom] = useMutation(CreateRoom);
  const client = useClient();
  // What the inbox said since the list was read, by room: it overrides the list's counts and last message.
  const [live, setLive] = useState<Record<string, { unreadCount: number; mentionCount: number; preview?: string; activeAt?: string }>>({});
  const cursor = useRef<string | null>(null);
  const [epoch, setEpoch] = useState(0);
  // One inbox subscription keeps the whole list live; after a dropped connection it resumes from its cursor.
  useEffect(() => {
    let dropped = false;
    const offClosed = app.ws.on('closed', () => (dropped = true));
    const offConnected = app.ws.on('connected', () => dropped && ((dropped = false), setEpoch((n) => n + 1)));
    return () => (offClosed(), offConnected());
  }, [app.ws]);
  useEffect(() => {
    const { unsubscribe } = client.subscription(Inbox, { after: cursor.current }).subscribe((r) => {
      const e = r.data?.inbox;
      if (!e) return;
      cursor.current = e.cursor;
      if (e.__typename === 'InboxMessageAdded')
        setLive((l) => ({ ...l, [e.room.id]: { unreadCount: e.unreadCount, mentionCount: e.mentionCount, preview: `${e.author.name}: ${e.snippet}`, activeAt: new Date().toISOString() } }));
      else if (e.__typename === 'InboxRoomRead') setLive((l) => ({ ...l, [e.room.id]: { ...l[e.room.id], unreadCount: e.unreadCount, mentionCount: e.mentionCount } }));
      else if (e.__typename !== 'InboxNotificationCreated') refetch({ requestPolicy: 'network-only' });
    });
    return unsubscribe;
  }, [epoch]);
  const rooms = (data?.me?.rooms.edges.map((e) => e.node) ?? [])
    .map((r) => ({ ...r, ...live[r.id], lastActivityAt: live[r.id]?.activeAt ?? r.lastActivityAt }))
    .sort((a, b) => b.lastActivityAt.localeCompare(a.lastActivityAt));
  const total = rooms.reduce((n, r) => n + (r.id === roomId ? 0 : r.unreadCount), 0);
  const others = data?.org?.members.edges.map((e) => e.node.user).filter((u) => u.id !== app.me.id) ?? [];

  return (
    <div class="split">
      <aside aria-label="Rooms">
        <h2>
          Rooms{' '}
          {total > 0 && <span class="badge" aria-label={`${total} unread in all rooms`}>{total}</span>}
        </h2>
        <ul class="list">
          {rooms.map((r) => (
            <li>
              <Link to={`/rooms/${r.id}`} aria-current={r.id === roomId ? 'page' : undefined}>
                <span class="name">{r.name ?? 'Direct message'}</span>
                {r.archivedAt && <small class="tag"> (archived)</small>}
                {r.unreadCount > 0 && r.id !== roomId && (
                  <span class="badge" aria-label={`${r.unreadCount} unread`}>{r.unreadCount}</span>
                )}
                {r.mentionCount > 0 && r.id !== roomId && (
                  <span class="badge mention" aria-label={`${r.mentionCount} mentions`}>@{r.mentionCount}</span>
                )}
                <small>
                  {r.preview ?? (r.lastMessage ? `${r.lastMessage.author.name}: ${r.lastMessage.deleted ? '(deleted)' : r.lastMessage.content}` : 'No messages yet')}
                </small>
              </Link>
            </li>
          ))}
        </ul>
        <label class="show-archived">
          <input type="checkbox" checked={showArchived} onChange={(e) => setShowArchived((e.target as HTMLInputElement).checked)} /> Show archived rooms
        </label>
        <details>
          <summary>New room</summary>
          <form
            aria-label="Create a room"
            onSubmit={async (e) => {
              e.preventDefault();
              const f = new FormData(e.currentTarget as HTMLFormElement);
              const r = await createRoom({
                input: { orgId: app.orgId!, name: String(f.get('name')), type: f.get('type') === 'CHANNEL' ? 'CHANNEL' : 'GROUP', memberIds: f.getAll('member').map(String) },
              });
              if (r.data) {
                refetch({ requestPolicy: 'network-only' });
                navigate(`/rooms/${r.data.createRoom.id}`);
              }
            }}
          >
            <label>
              Room name <input name="name" required />
            </label>
            <label>
              Type{' '}
              <select name="type">
                <option value="GROUP">Group</option>
                <option value="CHANNEL">Channel</option>
              </select>
            </label>
            <fieldset>
              <legend>Members</legend>
              {others.map((u) => (
                <label>
                  <input type="checkbox" name="member" value={u.id} /> {u.name}
                </label>
              ))}
            </fieldset>
            <button type="submit">Create room</button>
            {created.error && <p role="alert">{errorText(created.error)}</p>}
          </form>
        </details>
      </aside>
      {roomId ? (
        <RoomView
          key={roomId}
          roomId={roomId}
          onGone={(text, name) => {
            setNotice(name ? `${text} (${name}).` : `${text}.`);
            navigate('/rooms');
            refetch({ requestPolicy: 'network-only' });
          }}
        />
      ) : (
        <main class="page">{notice ? <p role="alert" class="notice">{notice}</p> : <p>Pick a room.</p>}</main>
      )}
    </div>
  );
}
