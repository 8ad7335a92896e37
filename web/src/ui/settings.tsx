import { useState } from 'preact/hooks';
import { useMutation, useQuery } from '@urql/preact';
import { getSession, setSession } from '../auth';
import { graphql } from '../gql';
import { serverFeatures } from '../server';
import { Avatar } from './room-moderation';
import { errorText } from './util';

const Account = graphql(`
  query WebAccount {
    me {
      id email emailVerified
      user { id name avatarUrl }
      blockedUsers(first: 100) { edges { node { id name avatarUrl } } }
    }
  }
`);
const UpdateProfile = graphql(`
  mutation WebUpdateProfile($input: UpdateProfileInput!) { updateProfile(input: $input) { id user { id name avatarUrl } } }
`);
const CreateAvatarUpload = graphql(`
  mutation WebCreateAvatarUpload($input: CreateUploadInput!) { createUpload(input: $input) { uploadUrl uploadHeaders { name value } attachment { id } } }
`);
const ChangePassword = graphql(`
  mutation WebChangePassword($input: ChangePasswordInput!) {
    changePassword(input: $input) { accessToken refreshToken accessTokenExpiresAt user { id name email } }
  }
`);
const Unblock = graphql(`
  mutation WebSettingsUnblock($input: UnblockUserInput!) { unblockUser(input: $input) { id viewerBlocked } }
`);
const RequestVerification = graphql(`
  mutation WebRequestEmailVerification($input: RequestEmailVerificationInput!) { requestEmailVerification(input: $input) { accepted } }
`);
const ExportData = graphql(`
  mutation WebExportMyData($input: ExportMyDataInput!) { exportMyData(input: $input) { url expiresAt } }
`);
const DeleteAccount = graphql(`
  mutation WebDeleteAccount($input: DeleteAccountInput!) { deleteAccount(input: $input) { deletedId } }
`);

const field = (e: Event, name: string) => String(new FormData(e.currentTarget as HTMLFormElement).get(name) ?? '');

/**
 * Account settings, for everyone: name and avatar, email verification, password, the people you
 * blocked, an export of your data, and deleting the account.
 */
export function SettingsPage() {
  const [{ data, error }, refetch] = useQuery({ query: Account, requestPolicy: 'cache-and-network' });
  const me = data?.me;
  if (error && !me) return <main class="page"><p role="alert">{errorText(error)}</p></main>;
  if (!me) return <main class="page"><p role="status">Loading…</p></main>;
  const reload = () => refetch({ requestPolicy: 'network-only' });
  return (
    <main class="page settings">
      <h2>Settings</h2>
      <Profile me={me} onSaved={reload} />
      <EmailSection email={me.email} verified={me.emailVerified} />
      <PasswordSection />
      <BlockedSection users={me.blockedUsers.edges.map((e) => e.node)} onChanged={reload} />
      <ExportSection />
      <DeleteSection />
    </main>
  );
}

function Profile({ me, onSaved }: { me: { user: { id: string; name: string; avatarUrl?: string | null } }; onSaved(): void }) {
  const [saved, update] = useMutation(UpdateProfile);
  const [, createUpload] = useMutation(CreateAvatarUpload);
  const [status, setStatus] = useState('');
  const [error, setError] = useState('');

  /** createUpload for an avatar (no org), then PUT the bytes; the attachment id, or null after saying why. */
  async function uploadAvatar(file: File): Promise<string | null> {
    const r = await createUpload({ input: { purpose: 'AVATAR', filename: file.name, contentType: file.type || 'application/octet-stream', byteSize: file.size } });
    if (!r.data) return (setError(errorText(r.error)), null);
    const { uploadUrl, uploadHeaders, attachment } = r.data.createUpload;
    const put = await fetch(uploadUrl, { method: 'PUT', headers: uploadHeaders.map((h) => [h.name, h.value] as [string, string]), body: file });
    if (!put.ok) return (setError(`${file.name}: ${(await put.json().catch(() => null))?.error ?? `upload failed (${put.status})`}`), null);
    return attachment.id;
  }

  return (
    <section aria-labelledby="profile-h">
      <h3 id="profile-h">Profile</h3>
      <p>
        <Avatar user={me.user} /> {me.user.avatarUrl ? '' : 'No avatar yet.'}
      </p>
      <form
        aria-label="Profile"
        onSubmit={async (e) => {
          e.preventDefault();
          setStatus('');
          setError('');
          const form = e.currentTarget as HTMLFormElement;
          const data = new FormData(form);
          const file = data.get('avatar');
          let avatarId: string | undefined;
          if (file instanceof File && file.size > 0) {
            const id = await uploadAvatar(file);
            if (!id) return;
            avatarId = id;
          }
          const r = await update({ input: { name: String(data.get('name')).trim(), ...(avatarId ? { avatarId } : {}) } });
          if (r.error) return setError(errorText(r.error));
          (form.elements.namedItem('avatar') as HTMLInputElement).value = '';
          setStatus('Profile saved.');
          onSaved();
        }}
      >
        <label>
          Name <input name="name" required maxLength={100} defaultValue={me.user.name} />
        </label>
        <label>
          Avatar <input type="file" name="avatar" accept="image/png,image/jpeg,image/gif,image/webp" />
        </label>
        <button type="submit" disabled={saved.fetching}>Save profile</button>
        {me.user.avatarUrl && (
          <button
            type="button"
            onClick={async () => {
              const r = await update({ input: { avatarId: null } });
              if (r.error) setError(errorText(r.error));
              else (setStatus('Avatar removed.'), onSaved());
            }}
          >
            Remove avatar
          </button>
        )}
      </form>
      {status && <p role="status">{status}</p>}
      {error && <p role="alert">{error}</p>}
    </section>
  );
}

function EmailSection({ email, verified }: { email: string; verified: boolean }) {
  const [sent, request] = useMutation(RequestVerification);
  return (
    <section aria-labelledby="email-h">
      <h3 id="email-h">Email</h3>
      <p>
        {email} — {verified ? <strong class="verified">verified</strong> : <strong class="unverified">not verified</strong>}
      </p>
      {!verified && serverFeatures.has('email-verification') && (
        <>
          <button onClick={() => request({ input: {} })} disabled={sent.fetching}>Resend verification email</button>
          {sent.data && <p role="status">We sent a verification link to {email}.</p>}
          {sent.error && <p role="alert">{errorText(sent.error)}</p>}
        </>
      )}
    </section>
  );
}

function PasswordSection() {
  const [changed, change] = useMutation(ChangePassword);
  const [done, setDone] = useState(false);
  return (
    <section aria-labelledby="password-h">
      <h3 id="password-h">Password</h3>
      <form
        aria-label="Change password"
        onSubmit={async (e) => {
          e.preventDefault();
          setDone(false);
          const form = e.currentTarget as HTMLFormElement;
          const r = await change({ input: { currentPassword: field(e, 'currentPassword'), newPassword: field(e, 'newPassword') } });
          const p = r.data?.changePassword;
          if (!p) return;
          // Every other login is revoked; this one carries on with the fresh tokens.
          setSession({ ...p, user: p.user });
          form.reset();
          setDone(true);
        }}
      >
        <label>
          Current password <input name="currentPassword" type="password" required autoComplete="current-password" />
        </label>
        <label>
          New password <input name="newPassword" type="password" required minLength={8} autoComplete="new-password" />
        </label>
        <button type="submit" disabled={changed.fetching}>Change password</button>
      </form>
      {done && <p role="status">Password changed. Your other devices were signed out.</p>}
      {changed.error && <p role="alert">{errorText(changed.error)}</p>}
    </section>
  );
}

function BlockedSection({ users, onChanged }: { users: Array<{ id: string; name: string; avatarUrl?: string | null }>; onChanged(): void }) {
  const [unblocked, unblock] = useMutation(Unblock);
  return (
    <section aria-labelledby="blocked-h">
      <h3 id="blocked-h">Blocked people</h3>
      {users.length === 0 ? (
        <p>You have not blocked anyone.</p>
      ) : (
        <ul aria-label="Blocked people">
          {users.map((u) => (
            <li>
              <Avatar user={u} /> {u.name}{' '}
              <button
                onClick={async () => {
                  const r = await unblock({ input: { userId: u.id } });
                  if (!r.error) onChanged();
                }}
              >
                Unblock {u.name}
              </button>
            </li>
          ))}
        </ul>
      )}
      {unblocked.error && <p role="alert">{errorText(unblocked.error)}</p>}
    </section>
  );
}

function ExportSection() {
  const [exported, exportData] = useMutation(ExportData);
  const link = exported.data?.exportMyData;
  return (
    <section aria-labelledby="export-h">
      <h3 id="export-h">Your data</h3>
      <button
        onClick={async () => {
          const r = await exportData({ input: {} });
          const url = r.data?.exportMyData.url;
          if (!url) return;
          // Same-origin: a download link saves the archive without leaving the app.
          const a = Object.assign(document.createElement('a'), { href: url, download: '' });
          a.click();
        }}
        disabled={exported.fetching}
      >
        Export my data
      </button>
      {link && (
        <p role="status">
          Your archive is ready: <a href={link.url}>download it</a> (the link works until {new Date(link.expiresAt).toLocaleString()}).
        </p>
      )}
      {exported.error && <p role="alert">{errorText(exported.error)}</p>}
    </section>
  );
}

function DeleteSection() {
  const [deleted, del] = useMutation(DeleteAccount);
  return (
    <section aria-labelledby="delete-h">
      <h3 id="delete-h">Delete account</h3>
      <p>
        Your profile, memberships and uploads are erased; orgs where you are the only member are deleted. If you own an org
        with other members, transfer it first.
      </p>
      <form
        aria-label="Delete account"
        onSubmit={async (e) => {
          e.preventDefault();
          if (!confirm('Delete your account for good?')) return;
          const r = await del({ input: { password: field(e, 'password') } });
          if (r.data && getSession()) setSession(null);
        }}
      >
        <label>
          Password <input name="password" type="password" required autoComplete="current-password" />
        </label>
        <button type="submit" class="danger" disabled={deleted.fetching}>Delete my account</button>
      </form>
      {deleted.error && <p role="alert">{errorText(deleted.error)}</p>}
    </section>
  );
}
