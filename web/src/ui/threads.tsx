import { useState } from 'preact/hooks';
import { useMutation, useQuery } from '@urql/preact';
import { graphql } from '../gql';
import type { ThreadFilterInput, ThreadOrderField, ThreadStatus } from '../gql/graphql';
import { Link, navigate } from '../router';
import { ThreadView } from './thread';
import { useApp } from './shell';
import { errorText, time } from './util';

const Threads = graphql(`
  query WebThreads($filter: ThreadFilterInput, $orderBy: ThreadOrderInput) {
    me { id threads(first: 50, filter: $filter, orderBy: $orderBy) { edges { node { id title status messageCount updatedAt lastMessage { content } } } } }
  }
`);
const CreateThread = graphql(`
  mutation WebCreateThread($input: CreateThreadInput!) { createThread(input: $input) { id title } }
`);

/** Threads you can read, filtered by status and date, sorted by creation or activity; one open beside. */
export function ThreadsPage({ path }: { path: string }) {
  const app = useApp();
  const threadId = path.split('/')[2];
  const [status, setStatus] = useState<ThreadStatus | ''>('');
  const [since, setSince] = useState('');
  const [field, setField] = useState<ThreadOrderField>('UPDATED_AT');
  const filter: ThreadFilterInput = { ...(status ? { status } : {}), ...(since ? { updatedAfter: new Date(since).toISOString() } : {}) };
  const [{ data }, refetch] = useQuery({ query: Threads, variables: { filter, orderBy: { field, direction: 'DESC' } } });
  const [created, create] = useMutation(CreateThread);
  const threads = data?.me?.threads.edges.map((e) => e.node) ?? [];

  return (
    <div class="split">
      <aside aria-label="Threads">
        <h2>Threads</h2>
        <form class="filters" aria-label="Filter threads" onSubmit={(e) => e.preventDefault()}>
          <label>
            Status{' '}
            <select value={status} onChange={(e) => setStatus((e.target as HTMLSelectElement).value as ThreadStatus | '')}>
              <option value="">Any</option>
              <option value="ACTIVE">Active</option>
              <option value="ARCHIVED">Archived</option>
            </select>
          </label>
          <label>
            Updated since <input type="date" value={since} onChange={(e) => setSince((e.target as HTMLInputElement).value)} />
          </label>
          <label>
            Sort by{' '}
            <select value={field} onChange={(e) => setField((e.target as HTMLSelectElement).value as ThreadOrderField)}>
              <option value="UPDATED_AT">Last activity</option>
              <option value="CREATED_AT">Created</option>
            </select>
          </label>
        </form>
        <ul class="list">
          {threads.map((t) => (
            <li>
              <Link to={`/threads/${t.id}`} aria-current={t.id === threadId ? 'page' : undefined}>
                <span class="name">{t.title}</span> <small>{t.messageCount} messages · {time(t.updatedAt)}{t.status === 'ARCHIVED' ? ' · archived' : ''}</small>
              </Link>
            </li>
          ))}
        </ul>
        <form
          aria-label="Create a thread"
          onSubmit={async (e) => {
            e.preventDefault();
            const title = String(new FormData(e.currentTarget as HTMLFormElement).get('title'));
            const r = await create({ input: { orgId: app.orgId!, title } });
            if (r.data) {
              refetch({ requestPolicy: 'network-only' });
              navigate(`/threads/${r.data.createThread.id}`);
            }
          }}
        >
          <label>
            New thread title <input name="title" required />
          </label>
          <button type="submit">Create thread</button>
          {created.error && <p role="alert">{errorText(created.error)}</p>}
        </form>
      </aside>
      {threadId ? <ThreadView key={threadId} threadId={threadId} /> : <main class="page"><p>Pick a thread.</p></main>}
    </div>
  );
}
