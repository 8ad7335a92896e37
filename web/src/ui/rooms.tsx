import { useEffect } from 'preact/hooks';
import { useMutation, useQuery } from '@urql/preact';
import { graphql } from '../gql';
import { Link, navigate } from '../router';
import { RoomView } from './room';
import { useApp } from './shell';
import { errorText } from './util';

const Rooms = graphql(`
  query WebRooms($orgId: ID!) {
    me { id rooms(first: 50, orgId: $orgId) { edges { node { id name type unreadCount lastActivityAt lastMessage { seq content deleted author { name } } } } } }
    org(id: $orgId) { id members(first: 100) { edges { node { id user { id name } } } } }
  }
`);
const CreateRoom = graphql(`
  mutation WebCreateRoom($input: CreateRoomInput!) { createRoom(input: $input) { id name } }
`);

/** Rooms of the current org, most recent activity first, with unread badges; the open room beside. */
export function RoomsPage({ path }: { path: string }) {
  const app = useApp();
  const roomId = path.split('/')[2];
  const [{ data }, refetch] = useQuery({ query: Rooms, variables: { orgId: app.orgId! } });
  const [created, createRoom] = useMutation(CreateRoom);
  // The list has no live feed of its own: refresh it while the page is open (unread counts, order).
  useEffect(() => {
    const t = setInterval(() => refetch({ requestPolicy: 'network-only' }), 4000);
    return () => clearInterval(t);
  }, [refetch]);
  const rooms = data?.me?.rooms.edges.map((e) => e.node) ?? [];
  const others = data?.org?.members.edges.map((e) => e.node.user).filter((u) => u.id !== app.me.id) ?? [];

  return (
    <div class="split">
      <aside aria-label="Rooms">
        <h2>Rooms</h2>
        <ul class="list">
          {rooms.map((r) => (
            <li>
              <Link to={`/rooms/${r.id}`} aria-current={r.id === roomId ? 'page' : undefined}>
                <span class="name">{r.name ?? 'Direct message'}</span>
                {r.unreadCount > 0 && r.id !== roomId && (
                  <span class="badge" aria-label={`${r.unreadCount} unread`}>{r.unreadCount}</span>
                )}
                <small>{r.lastMessage ? `${r.lastMessage.author.name}: ${r.lastMessage.deleted ? '(deleted)' : r.lastMessage.content}` : 'No messages yet'}</small>
              </Link>
            </li>
          ))}
        </ul>
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
      {roomId ? <RoomView key={roomId} roomId={roomId} /> : <main class="page"><p>Pick a room.</p></main>}
    </div>
  );
}
