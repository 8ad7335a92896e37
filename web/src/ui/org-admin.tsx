import { useEffect, useRef, useState } from 'preact/hooks';
import { useMutation, useQuery, useSubscription } from '@urql/preact';
import { graphql } from '../gql';
import type { ReportAction, ReportStatus } from '../gql/graphql';
import { Link } from '../router';
import { useApp } from './shell';
import { errorText } from './util';

const Reports = graphql(`
  query WebReports($orgId: ID!, $status: ReportStatus) {
    org(id: $orgId) {
      id
      reports(status: $status, first: 50) {
        edges { node { id content reason status note createdAt resolvedAt room { id name } message { id } author { id name } filedBy { id name } resolvedBy { id name } } }
      }
    }
  }
`);
const Resolve = graphql(`
  mutation WebResolveReport($input: ResolveReportInput!) { resolveReport(input: $input) { id status note resolvedAt resolvedBy { id name } } }
`);
const Notifications = graphql(`
  subscription WebOrgNotifications($orgId: ID) { notifications(orgId: $orgId) { id topic } }
`);
const AuditLog = graphql(`
  query WebAuditLog($orgId: ID!, $action: String, $after: String) {
    org(id: $orgId) {
      id
      auditLog(first: 50, action: $action, after: $after) {
        edges { node { id action targetType targetId data createdAt actor { id name } } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
`);

const STATUSES: Array<{ value: ReportStatus | ''; label: string }> = [
  { value: 'OPEN', label: 'Open' },
  { value: 'DISMISSED', label: 'Dismissed' },
  { value: 'MESSAGE_DELETED', label: 'Message deleted' },
  { value: 'USER_BANNED', label: 'Author banned' },
  { value: '', label: 'All' },
];
const ACTIONS: Array<{ action: ReportAction; label: string }> = [
  { action: 'DISMISS', label: 'Dismiss' },
  { action: 'DELETE_MESSAGE', label: 'Delete message' },
  { action: 'BAN_AUTHOR', label: 'Ban author' },
];

/**
 * The org's report queue (OWNER/ADMIN), newest first, filtered by status; an open report is resolved by
 * dismissing it, deleting the message, or banning its author from the room. A new report reaches the
 * admins as a notification (topic `report`), which re-reads the queue.
 */
export function ReportsPage() {
  const app = useApp();
  const [status, setStatus] = useState<ReportStatus | ''>('OPEN');
  const [{ data, error, fetching }, refetch] = useQuery({
    query: Reports,
    variables: { orgId: app.orgId!, status: status || null },
    requestPolicy: 'cache-and-network',
  });
  const [resolved, resolve] = useMutation(Resolve);
  // The subscription replays unacknowledged notifications first: one re-read for a burst of them.
  const pending = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => () => void (pending.current && clearTimeout(pending.current)), []);
  useSubscription({ query: Notifications, variables: { orgId: app.orgId } }, (_prev, e) => {
    if (e.notifications.topic === 'report' && !pending.current)
      pending.current = setTimeout(() => ((pending.current = null), refetch({ requestPolicy: 'network-only' })), 150);
    return e;
  });
  const reports = data?.org?.reports.edges.map((e) => e.node) ?? [];

  return (
    <main class="page">
      <h2>Reports</h2>
      <div class="toolbar">
        <label>
          Status{' '}
          <select value={status} onChange={(e) => setStatus((e.target as HTMLSelectElement).value as ReportStatus | '')}>
            {STATUSES.map((s) => (
              <option value={s.value}>{s.label}</option>
            ))}
          </select>
        </label>
        <button onClick={() => refetch({ requestPolicy: 'network-only' })} disabled={fetching}>Refresh</button>
      </div>
      {error && <p role="alert">{errorText(error)}</p>}
      {resolved.error && <p role="alert">{errorText(resolved.error)}</p>}
      {data && reports.length === 0 && <p>No reports.</p>}
      <ul class="reports" aria-label="Reports">
        {reports.map((r) => (
          <li aria-label={`Report on ${r.author?.name ?? 'a deleted user'}'s message`} data-status={r.status}>
            <div class="meta">
              In <strong>{r.room ? (r.room.name ?? 'a direct room') : 'a room you are not in'}</strong>, {r.filedBy?.name ?? 'a deleted user'} reported {r.author?.name ?? 'a deleted user'}'s message{' '}
              <time dateTime={r.createdAt}>{new Date(r.createdAt).toLocaleString()}</time>
              {r.room && r.message && (
                <>
                  {' '}
                  <Link to={`/rooms/${r.room.id}`}>Open the room</Link>
                </>
              )}
            </div>
            <blockquote>{r.content}</blockquote>
            <p>
              Reason: <q>{r.reason}</q>
            </p>
            {r.status === 'OPEN' ? (
              <form
                class="inline-form"
                aria-label="Resolve report"
                onSubmit={async (e) => {
                  e.preventDefault();
                  const form = e.currentTarget as HTMLFormElement;
                  const action = (e as SubmitEvent).submitter?.getAttribute('value') as ReportAction;
                  const note = String(new FormData(form).get('note') ?? '').trim() || null;
                  const done = await resolve({ input: { reportId: r.id, action, note } });
                  if (!done.error) refetch({ requestPolicy: 'network-only' });
                }}
              >
                <label>
                  Note (optional) <input name="note" maxLength={1000} />
                </label>
                {ACTIONS.map((a) => (
                  <button type="submit" value={a.action} class={a.action === 'DISMISS' ? '' : 'danger'}>
                    {a.label}
                  </button>
                ))}
              </form>
            ) : (
              <p class="resolution">
                {STATUSES.find((s) => s.value === r.status)?.label} by {r.resolvedBy?.name ?? 'someone'}
                {r.resolvedAt ? ` ${new Date(r.resolvedAt).toLocaleString()}` : ''}
                {r.note ? ` — ${r.note}` : ''}
              </p>
            )}
          </li>
        ))}
      </ul>
    </main>
  );
}

/** The org's audit log (OWNER/ADMIN): who did what, to what, and when, newest first, by action. */
export function AuditLogPage() {
  const app = useApp();
  const [action, setAction] = useState('');
  const [after, setAfter] = useState<string | null>(null);
  const [{ data, error }, refetch] = useQuery({
    query: AuditLog,
    variables: { orgId: app.orgId!, action: action || null, after },
    requestPolicy: 'cache-and-network',
  });
  const log = data?.org?.auditLog;
  return (
    <main class="page">
      <h2>Audit log</h2>
      <form
        class="toolbar"
        aria-label="Filter the audit log"
        onSubmit={(e) => {
          e.preventDefault();
          setAfter(null);
          setAction(String(new FormData(e.currentTarget as HTMLFormElement).get('action') ?? '').trim());
        }}
      >
        <label>
          Action <input name="action" placeholder="room.member.ban" />
        </label>
        <button type="submit">Filter</button>
        <button type="button" onClick={() => (setAfter(null), refetch({ requestPolicy: 'network-only' }))}>Refresh</button>
      </form>
      {error && <p role="alert">{errorText(error)}</p>}
      <table class="audit" aria-label="Audit log">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Who</th>
            <th scope="col">Action</th>
            <th scope="col">Target</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {log?.edges.map(({ node: a }) => (
            <tr>
              <td><time dateTime={a.createdAt}>{new Date(a.createdAt).toLocaleString()}</time></td>
              <td>{a.actor?.name ?? 'Server'}</td>
              <td><code>{a.action}</code></td>
              <td>{a.targetType} <small><code>{a.targetId}</code></small></td>
              <td><small><code>{a.data == null ? '' : JSON.stringify(a.data)}</code></small></td>
            </tr>
          ))}
        </tbody>
      </table>
      {log && log.edges.length === 0 && <p>Nothing yet.</p>}
      {log?.pageInfo.hasNextPage && <button onClick={() => setAfter(log.pageInfo.endCursor ?? null)}>Older entries</button>}
      {after && <button onClick={() => setAfter(null)}>Newest entries</button>}
    </main>
  );
}
