import { useState } from 'preact/hooks';
import { useMutation, useQuery } from '@urql/preact';
import { graphql } from '../gql';
import type { OrgRole } from '../gql/graphql';
import { useApp } from './shell';
import { errorText } from './util';

const Members = graphql(`
  query WebOrgMembers($id: ID!) {
    org(id: $id) { id name slug plan viewerRole retentionDays members(first: 100) { edges { node { id role user { id name email presence } } } } }
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

const UpdateOrg = graphql(`
  mutation WebUpdateOrg($input: UpdateOrgInput!) { updateOrg(input: $input) { id name slug retentionDays } }
`);
const TransferOwnership = graphql(`
  mutation WebTransferOrgOwnership($input: TransferOrgOwnershipInput!) { transferOrgOwnership(input: $input) { id viewerRole } }
`);
const DeleteOrg = graphql(`
  mutation WebDeleteOrg($input: DeleteOrgInput!) { deleteOrg(input: $input) { deletedId } }
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
      {org && (org.viewerRole === 'OWNER' || org.viewerRole === 'ADMIN') && <OrgSettings org={org} />}
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

interface OrgInfo {
  id: string;
  name: string;
  slug: string;
  viewerRole?: OrgRole | null;
  retentionDays?: number | null;
  members: { edges: Array<{ node: { role: OrgRole; user: { id: string; name: string } } }> };
}

/**
 * The org's own settings: name and slug (OWNER), message retention (OWNER and ADMIN); handing the org to
 * another member and deleting it, confirmed with its slug (OWNER).
 */
function OrgSettings({ org }: { org: OrgInfo }) {
  const app = useApp();
  const owner = org.viewerRole === 'OWNER';
  const [updated, updateOrg] = useMutation(UpdateOrg);
  const [transferred, transfer] = useMutation(TransferOwnership);
  const [deleted, deleteOrg] = useMutation(DeleteOrg);
  const [saved, setSaved] = useState(false);
  const others = org.members.edges.map((e) => e.node).filter((m) => m.user.id !== app.me.id);
  return (
    <section aria-labelledby="org-settings-h">
      <h2 id="org-settings-h">Organization settings</h2>
      <form
        aria-label="Organization settings"
        onSubmit={async (e) => {
          e.preventDefault();
          setSaved(false);
          const retention = formValue(e, 'retentionDays').trim();
          const r = await updateOrg({
            input: {
              orgId: org.id,
              ...(owner ? { name: formValue(e, 'name').trim(), slug: formValue(e, 'slug').trim() } : {}),
              retentionDays: retention ? Number(retention) : null,
            },
          });
          if (r.data) (setSaved(true), app.refetchMe());
        }}
      >
        {owner && (
          <>
            <label>
              Name <input name="name" required defaultValue={org.name} />
            </label>
            <label>
              Slug <input name="slug" required pattern="[a-z0-9-]+" defaultValue={org.slug} />
            </label>
          </>
        )}
        <label>
          Keep room messages for (days; empty: the server's default){' '}
          <input name="retentionDays" type="number" min={1} max={3650} defaultValue={org.retentionDays == null ? '' : String(org.retentionDays)} />
        </label>
        <button type="submit" disabled={updated.fetching}>Save settings</button>
        {saved && <p role="status">Settings saved.</p>}
        {updated.error && <p role="alert">{errorText(updated.error)}</p>}
      </form>
      {owner && others.length > 0 && (
        <form
          aria-label="Transfer ownership"
          onSubmit={async (e) => {
            e.preventDefault();
            const userId = formValue(e, 'userId');
            const name = others.find((m) => m.user.id === userId)?.user.name;
            if (!confirm(`Make ${name} the owner of ${org.name}? You become an admin.`)) return;
            const r = await transfer({ input: { orgId: org.id, userId } });
            if (r.data) app.refetchMe();
          }}
        >
          <label>
            New owner{' '}
            <select name="userId">
              {others.map((m) => (
                <option value={m.user.id}>{m.user.name}</option>
              ))}
            </select>
          </label>
          <button type="submit" class="danger">Transfer ownership</button>
          {transferred.error && <p role="alert">{errorText(transferred.error)}</p>}
        </form>
      )}
      {owner && (
        <form
          aria-label="Delete organization"
          onSubmit={async (e) => {
            e.preventDefault();
            const r = await deleteOrg({ input: { orgId: org.id, confirmSlug: formValue(e, 'confirmSlug').trim() } });
            if (r.data) {
              localStorage.removeItem('confab.org');
              app.refetchMe();
            }
          }}
        >
          <p>Deleting {org.name} deletes its rooms, messages, threads, projects, keys and files for everyone.</p>
          <label>
            Type <code>{org.slug}</code> to confirm <input name="confirmSlug" required autoComplete="off" />
          </label>
          <button type="submit" class="danger">Delete organization</button>
          {deleted.error && <p role="alert">{errorText(deleted.error)}</p>}
        </form>
      )}
    </section>
  );
}
