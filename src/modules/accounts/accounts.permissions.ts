import type { DomainPermissions } from '../../auth/permissions.ts';
import { allow, ruleOf } from '../../auth/rules.ts';
import { forbidden, unauthenticated } from '../../errors.ts';

/** A person signed in as themselves: not an API key, a session token, or an API key acting as them. */
const isPerson = ruleOf(
  'isPerson',
  (ctx) => {
    const viewer = ctx.viewer;
    if (viewer.kind === 'anonymous' || viewer.kind === 'session') return unauthenticated();
    return (viewer.kind === 'user' && !viewer.via) || forbidden('Sign in as yourself to manage your account');
  },
  'contextual',
);

/**
 * Account management is the signed-in person's own (no API key, acting or not, reaches it); a password reset
 * is for anyone holding the mailed token. The new User and Viewer fields fall under the users domain's rules
 * (User: anyone who can see the user; Viewer: only the user).
 */
export const accountsPermissions: DomainPermissions = {
  rules: {
    Mutation: {
      updateProfile: isPerson,
      changePassword: isPerson,
      requestPasswordReset: allow,
      resetPassword: allow,
      requestEmailVerification: isPerson,
      verifyEmail: isPerson,
      exportMyData: isPerson,
      deleteAccount: isPerson,
    },
    ChangePasswordPayload: { '*': allow },
    ResetPasswordPayload: { '*': allow },
    RequestPasswordResetPayload: { '*': allow },
    RequestEmailVerificationPayload: { '*': allow },
    ExportMyDataPayload: { '*': allow },
    DeleteAccountPayload: { '*': allow },
  },
  nodes: {},
  // What a user whose email is not verified may still do (auth.require_verified_email).
  unverified: {
    Mutation: ['requestEmailVerification', 'verifyEmail', 'changePassword', 'deleteAccount', 'exportMyData', 'requestPasswordReset', 'resetPassword'],
  },
};
