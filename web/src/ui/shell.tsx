import { createContext } from 'preact';
import { useContext, useEffect, useMemo, useState } from 'preact/hooks';
import { useMutation, useQuery, useSubscription } from '@urql/preact';
import type { Client as WsClient } from 'graphql-ws';
import { getSession, setSession } from '../auth';
import { graphql } from '../gql';
import type { OrgRole, PresenceStatus } from '../gql/graphql';
import { Link, clearHashRoute, hashToken, usePath } from '../router';
import { serverFeatures } from '../server';
import { OrgPage } from './org';
import { AuditLogPage, ReportsPage } from './org-admin';
import { PaidPage } from './paid';
import { RoomsPage } from './rooms';
import { SettingsPage } from './settings';
import { ThreadsPage } from './threads';
import { errorText } from './util';

const Me = graphql(`
  query WebMe {
    me { id email emailVerified user { id name avatarUrl } orgs(first: 50) { edges { node { id name slug viewerRole } } } }
  }
`);
const PresenceSub = graphql(`
  subscription WebPresence($orgId: ID!) { presence(orgId: $orgId) { userId status } }
`);
const VerifyEmail = graphql(`
  mutation WebVerifyEmail($input: VerifyEmailInput!) { verifyEmail(input: $input) { id emailVerified } }
`);
const ResendVerification = graphql(`
  mutation WebResendVerification($input: RequestEmailVerificationInput!) { requestEmailVerification(input: $input) { accepted } }
`);
const Logout = graphql(`
  mutation WebLogout($input: LogoutInput!) { logout(input: $input) { revoked } }
`);

export interface AppState {
  me: { id: string; name: string };
  orgId: string | null;
  /** The viewer's role in the current org (OWNER and ADMIN see reports and the audit log). */
  orgRole: OrgRole | null;
  ws: WsClient;
  /** Live presence by user id (from the presence subscription; members' initial status elsewhere). */
  presence: Record<string, PresenceStatus>;
  /** The server runs the dev Lightning backend (settleDevInvoice exists): show "Simulate payment". */
  devPayments: boolean;
  refetchMe(): void;
  selectOrg(id: string): void;
}

export const AppContext = createContext<AppState>(null as unknown as AppState);
export const useApp = () => useContext(AppContext);

/** Header (org switcher, navigation, connection state, sign out) and the page for the path. */
export function Shell({ ws }: { ws: WsClient }) {
  const [{ data }, refetchMe] = useQuery({ query: Me });
  const [orgId, setOrgId] = useState<string | null>(localStorage.getItem('confab.org'));
  const [presence, setPresence] = useState<Record<string, PresenceStatus>>({});
  const [online, setOnline] = useState(true);
  const [, logout] = useMutation(Logout);
  const [verified, verifyEmail] = useMutation(VerifyEmail);
  const [resent, resend] = useMutation(ResendVerification);
  // Opened from the verification mail (`#/verify?token=`): verify once signed in, then leave the route.
  useEffect(() => {
    const token = hashToken('verify');
    if (!token) return;
    clearHashRoute();
    verifyEmail({ input: { token } }).then((r) => !r.error && refetchMe({ requestPolicy: 'network-only' }));
  }, []);
  const path = usePath();
  const selectOrg = (id: string) => {
    localStorage.setItem('confab.org', id);
    setOrgId(id);
  };
  const orgs = data?.me?.orgs.edges.map((e) => e.node) ?? [];
  const activeOrg = orgs.find((o) => o.id === orgId) ?? orgs[0];

  useEffect(() => {
    const offClosed = ws.on('closed', () => setOnline(false));
    const offConnected = ws.on('connected', () => setOnline(true));
    return () => (offClosed(), offConnected());
  }, [ws]);
  useSubscription({ query: PresenceSub, variables: { orgId: activeOrg?.id ?? '' }, pause: !activeOrg }, (_prev, e) => {
    setPresence((p) => ({ ...p, [e.presence.userId]: e.presence.status }));
    return e;
  });

  const state = useMemo<AppState | null>(
    () =>
      data?.me
        ? {
            me: { id: data.me.id, name: data.me.user.name },
            orgId: activeOrg?.id ?? null,
            orgRole: activeOrg?.viewerRole ?? null,
            ws,
            presence,
            devPayments: serverFeatures.has('dev-payments'),
            refetchMe: () => refetchMe({ requestPolicy: 'network-only' }),
            selectOrg,
          }
        : null,
    [data, activeOrg?.id, presence, ws],
  );
  if (!state) return <p role="status">Loading…</p>;

  const section = path.split('/')[1] || 'rooms';
  const orgAdmin = state.orgRole === 'OWNER' || state.orgRole === 'ADMIN';
  const nav = (to: string, label: string) => (
    <li>
      <Link to={to} aria-current={section === to.slice(1) ? 'page' : undefined}>{label}</Link>
    </li>
  );
  return (
    <AppContext.Provider value={state}>
      <header>
        <strong>Confab</strong>
        <label>
          Organization{' '}
          <select
            value={activeOrg?.id ?? ''}
            onChange={(e) => selectOrg((e.target as HTMLSelectElement).value)}
          >
            {orgs.map((o) => (
              <option value={o.id}>{o.name}</option>
            ))}
          </select>
        </label>
        <nav aria-label="Main">
          <ul>
            {nav('/rooms', 'Rooms')}
            {nav('/threads', 'Threads')}
            {nav('/paid', 'Paid session')}
            {nav('/org', 'Organization')}
            {orgAdmin && nav('/reports', 'Reports')}
            {orgAdmin && nav('/audit', 'Audit log')}
            {nav('/settings', 'Settings')}
          </ul>
        </nav>
        <span role="status" class={online ? 'online' : 'offline'}>{online ? 'Connected' : 'Reconnecting…'}</span>
        <span>{data?.me?.user.avatarUrl && <img class="avatar" src={data.me.user.avatarUrl} alt="" width={24} height={24} />} {state.me.name}</span>
        <button
          onClick={async () => {
            const s = getSession();
            if (s) await logout({ input: { refreshToken: s.refreshToken } });
            setSession(null);
          }}
        >
          Sign out
        </button>
      </header>
      {verified.data && <p role="status" class="banner">Your email address is confirmed.</p>}
      {verified.error && <p role="alert" class="banner">{errorText(verified.error)}</p>}
      {serverFeatures.has('email-verification') && data?.me && !data.me.emailVerified && !verified.data && (
        <p class="banner">
          Confirm your email address ({data.me.email}) with the link we sent.{' '}
          <button onClick={() => resend({ input: {} })} disabled={resent.fetching || !!resent.data}>{resent.data ? 'Sent' : 'Resend'}</button>
          {resent.error && <span role="alert"> {errorText(resent.error)}</span>}
        </p>
      )}
      {section === 'settings' ? (
        <SettingsPage />
      ) : !activeOrg && section !== 'paid' ? (
        <OrgPage />
      ) : section === 'reports' && orgAdmin ? (
        <ReportsPage />
      ) : section === 'audit' && orgAdmin ? (
        <AuditLogPage />
      ) : section === 'threads' ? (
        <ThreadsPage path={path} />
      ) : section === 'paid' ? (
        <PaidPage path={path} />
      ) : section === 'org' ? (
        <OrgPage />
      ) : (
        <RoomsPage path={path} />
      )}
    </AppContext.Provider>
  );
}
