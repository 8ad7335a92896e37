import type { DomainPermissions } from '../../auth/permissions.ts';
import { allow, checkOrg, idOf, ruleOf } from '../../auth/rules.ts';
import { forbidden, unauthenticated } from '../../errors.ts';
import { canSeeAttachment } from './attachments.service.ts';

/** A message upload: a member of its org. An avatar: a person signed in as themselves (not an acting key). */
const canCreateUpload = ruleOf('canCreateUpload', (ctx, args) => {
  if (args.input.purpose !== 'AVATAR') return checkOrg(ctx, idOf(args.input.orgId, 'Org', 'orgId'));
  const viewer = ctx.viewer;
  if (viewer.kind === 'anonymous' || viewer.kind === 'session') return unauthenticated();
  return (viewer.kind === 'user' && !viewer.via) || forbidden('Only a person signed in as themselves uploads an avatar');
});

/**
 * Uploading is for members of the org (NOT_FOUND otherwise; API keys are not uploaders, an ACT_AS key acting
 * as a member is); an avatar upload is for any person signed in as themselves. An Attachment is reached only
 * through what may show it: node(id) asks canSeeAttachment (its uploader, or a reader of its message), and
 * RoomMessage/ThreadMessage.attachments sit under messages that are already guarded. So its fields, `url`
 * included, are plain `allow`.
 */
export const attachmentsPermissions: DomainPermissions = {
  rules: {
    Mutation: { createUpload: canCreateUpload },
    Attachment: { '*': allow },
    UploadHeader: { '*': allow },
    CreateUploadPayload: { '*': allow },
  },
  acting: {
    Mutation: ['createUpload'],
    Attachment: '*',
    UploadHeader: '*',
    CreateUploadPayload: '*',
  },
  actingNodes: ['Attachment'],
  nodes: {
    Attachment: (ctx, a) => canSeeAttachment(ctx, a),
  },
  // A message's attachments are the same for everyone who receives its event (members of its room); their
  // url is signed for the attachment alone, not for a viewer.
  liveShared: {
    Attachment: '*',
  },
};
