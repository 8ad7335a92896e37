import { useState } from 'preact/hooks';
import { useMutation, useQuery } from '@urql/preact';
import { graphql } from '../gql';
import type { OrgRole } from '../gql/graphql';
import { useApp } from './shell';
import { errorText } from './util';

const Members = graphql(`
  query WebOrgMembers($id: ID!) {
    org(id: $id) { id name slug plan viewerRole members(first: 100) { edges { node { id role user { id name email presence } } } } }
  }
`);
const CreateOrg = graphql(`
  mutation WebCreateOrg($input: CreateOrgInput!) { createOrg(input: $input) { id name slug } }
`);
const Invite = graphql(`
  mutation WebInvite($input: InviteMemberInput!) { inviteMember(input: $input) { token invite { id email role expiresAt } } }
`);
const Accept = graphql(`
  mutation WebAcceptInvite($input: AcceptInviteInput!) { acceptInvite(input: $input) { id role org { id name } } }
`);

const formValue = (e: Event, name: string) => String(new FormData(e.currentTarget as HTMLFormElement).get(name) ?? '');

/** The current org's members, invitations (token shown once), a new org, and accepting an invite. */
export function OrgPage() {
  const app = useApp();
  const [{ data }] = useQuery({ query: Members, variables: { id: app.orgId ?? '' }, pause: !app.orgId });
  const [created, createOrg] = useMutation(CreateOrg);
  const [invited, invite] = useMutation(Invite);
  const [accepted, accept] = useMutation(Accept);
  const [role, setRole] = useState<OrgRole>('MEMBER');
  const org = data?.org;

  return (
    <main class="page">
      {org && (
        <section aria-labelledby="members-h">
          <h2 id="members-h">{org.name} members</h2>
          <ul class="members">
            {org.members.edges.map(({ node }) => (
              <li>
                <span class={`dot ${(app.presence[node.user.id] ?? node.user.presence).toLowerCase()}`} aria-label={app.presence[node.user.id] ?? node.user.presence} role="img" />
                {node.user.name} <small>{node.user.email} · {node.role}</small>
              </li>
            ))}
          </ul>
          {(org.viewerRole === 'OWNER' || org.viewerRole === 'ADMIN') && (
            <form
              aria-label="Invite a member"
              onSubmit={async (e) => {
                e.preventDefault();
                await invite({ input: { orgId: org.id, email: formValue(e, 'email'), role } });
              }}
            >
              <label>
                Email <input name="email" type="email" required />
              </label>
              <label>
                Role{' '}
                <select value={role} onChange={(e) => setRole((e.target as HTMLSelectElement).value as OrgRole)}>
                  <option>MEMBER</option>
                  <option>ADMIN</option>
                </select>
              </label>
              <button type="submit">Invite</button>
              {invited.error && <p role="alert">{errorText(invited.error)}</p>}
              {invited.data && (
                <p role="status">
                  Invitation for {invited.data.inviteMember.invite.email}. Send them this token (shown once):{' '}
                  <code data-testid="invite-token">{invited.data.inviteMember.token}</code>
                </p>
              )}
            </form>
          )}
        </section>
      )}
      <section aria-labelledby="new-org-h">
        <h2 id="new-org-h">New organization</h2>
        <form
          aria-label="Create an organization"
          onSubmit={async (e) => {
            e.preventDefault();
            const r = await createOrg({ input: { name: formValue(e, 'name'), slug: formValue(e, 'slug') } });
            if (r.data) {
              app.selectOrg(r.data.createOrg.id);
              app.refetchMe();
            }
          }}
        >
          <label>
            Name <input name="name" required />
          </label>
          <label>
            Slug <input name="slug" required pattern="[a-z0-9-]+" />
          </label>
          <button type="submit">Create</button>
          {created.error && <p role="alert">{errorText(created.error)}</p>}
        </form>
      </section>
      <section aria-labelledby="accept-h">
        <h2 id="accept-h">Join with an invitation</h2>
        <form
          aria-label="Accept an invitation"
          onSubmit={async (e) => {
            e.preventDefault();
            const r = await accept({ input: { token: formValue(e, 'token') } });
            if (r.data) app.refetchMe();
          }}
        >
          <label>
            Invitation token <input name="token" required />
          </label>
          <button type="submit">Join</button>
          {accepted.error && <p role="alert">{errorText(accepted.error)}</p>}
          {accepted.data && <p role="status">You joined {accepted.data.acceptInvite.org.name}.</p>}
        </form>
      </section>
    </main>
  );
}
