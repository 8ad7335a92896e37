import type { DomainPermissions } from '../../auth/permissions.ts';
import { allow, orgRule } from '../../auth/rules.ts';
import { canSeeAttachment } from './attachments.service.ts';

/**
 * Uploading is for members of the org (NOT_FOUND otherwise; API keys are not uploaders, an ACT_AS key acting
 * as a member is). An Attachment is reached only through what may show it: node(id) asks canSeeAttachment
 * (its uploader, or a reader of its message), and RoomMessage/ThreadMessage.attachments sit under messages
 * that are already guarded. So its fields, `url` included, are plain `allow`.
 */
export const attachmentsPermissions: DomainPermissions = {
  rules: {
    Mutation: { createUpload: orgRule('canCreateUpload', (a) => a.input.orgId) },
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
