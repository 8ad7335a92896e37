import { encodeGlobalID } from '@pothos/plugin-relay';
import { idOf } from '../../auth/rules.ts';
import { db } from '../../db/client.ts';
import { builder } from '../../schema/builder.ts';
import * as lifecycle from './lifecycle.service.ts';
import { effectiveRetentionDays } from '../retention/retention.service.ts';
import { OrgRef } from './orgs.schema.ts';

builder.objectFields(OrgRef, (t) => ({
  retentionDays: t.exposeInt('retentionDays', {
    nullable: true,
    description: "The org's own retention of room messages, in days (updateOrg); null when it uses the server's default (`retention.room_messages_days`).",
  }),
  effectiveRetentionDays: t.int({
    nullable: true,
    description: 'How many days room messages are kept: the org\'s own setting, else the server\'s default; null when they are kept forever.',
    resolve: (org, _args, ctx) => effectiveRetentionDays(org, ctx.app.config) || null,
  }),
}));

const UpdateOrgInput = builder.inputType('UpdateOrgInput', {
  description: "An org's new name, slug or retention; fields left out stay as they are.",
  fields: (t) => ({
    orgId: t.id({ required: true, description: 'The org (you must be ADMIN or OWNER there).' }),
    name: t.string({ description: 'The new display name (1 to 100 characters); null or absent keeps it.' }),
    slug: t.string({
      description:
        'The new unique short name: lowercase letters, digits and single `-`, 3 to 40 characters (OWNER only: FORBIDDEN for an ADMIN; CONFLICT when taken); null or absent keeps it.',
    }),
    retentionDays: t.int({
      description:
        "Delete room messages older than this many days (1 to 3650); null returns to the server's default (`retention.room_messages_days`), absent keeps the current setting.",
    }),
  }),
});
const DeleteOrgInput = builder.inputType('DeleteOrgInput', {
  description: 'The org to delete, confirmed by its slug.',
  fields: (t) => ({
    orgId: t.id({ required: true, description: 'The org (you must be its OWNER).' }),
    confirmSlug: t.string({ required: true, description: "The org's slug, typed again: BAD_USER_INPUT, and nothing deleted, when it differs." }),
  }),
});
const TransferOrgOwnershipInput = builder.inputType('TransferOrgOwnershipInput', {
  description: 'Who takes the org over.',
  fields: (t) => ({
    orgId: t.id({ required: true, description: 'The org (you must be an OWNER there).' }),
    userId: t.id({ required: true, description: 'A member of the org (NOT_FOUND otherwise); they become OWNER and you ADMIN.' }),
  }),
});

const DeleteOrgPayload = builder.objectRef<{ orgId: string }>('DeleteOrgPayload').implement({
  description: 'What deleteOrg removed.',
  fields: (t) => ({
    deletedId: t.id({ description: 'The ID of the Org that is gone.', resolve: (p) => encodeGlobalID('Org', p.orgId) }),
  }),
});

builder.mutationFields((t) => ({
  updateOrg: t.prismaField({
    type: 'Org',
    description:
      "Renames the org, changes its slug (OWNER only) or its retention of room messages (ADMIN or OWNER). BAD_USER_INPUT for a malformed value (nothing changes); CONFLICT when the slug is taken. Announced to webhooks as ORG_UPDATED and written to the org's audit log (`org.update`).",
    args: { input: t.arg({ type: UpdateOrgInput, required: true, description: 'The org and its new values.' }) },
    resolve: async (query, _root, { input }, ctx) => {
      const org = await lifecycle.updateOrg(ctx, idOf(input.orgId, 'Org', 'orgId'), input);
      return db.org.findUniqueOrThrow({ ...query, where: { id: org.id } });
    },
  }),
  deleteOrg: t.field({
    type: DeleteOrgPayload,
    description:
      "Deletes the org with everything in it: members, rooms and their messages, threads, projects, API keys (refused at once), webhooks, stored files (OWNER only). Live streams of its rooms end with RoomDeleted, of its threads with ThreadDeleted; its webhooks get ORG_DELETED. BAD_USER_INPUT when confirmSlug is not the org's slug (nothing is deleted); NOT_FOUND once it is gone.",
    args: { input: t.arg({ type: DeleteOrgInput, required: true, description: 'The org and its slug.' }) },
    resolve: (_root, { input }, ctx) => lifecycle.deleteOrg(ctx, idOf(input.orgId, 'Org', 'orgId'), input.confirmSlug),
  }),
  transferOrgOwnership: t.prismaField({
    type: 'Org',
    description:
      'Hands the org to another member in one step: they become OWNER, you become ADMIN (OWNER only). NOT_FOUND when they are not a member; BAD_USER_INPUT for yourself. Announced as membershipChanged events and the ORG_OWNERSHIP_TRANSFERRED webhook, and audited (`org.ownership.transfer`).',
    args: { input: t.arg({ type: TransferOrgOwnershipInput, required: true, description: 'The org and its new owner.' }) },
    resolve: async (query, _root, { input }, ctx) => {
      const org = await lifecycle.transferOrgOwnership(ctx, idOf(input.orgId, 'Org', 'orgId'), idOf(input.userId, 'User', 'userId'));
      return db.org.findUniqueOrThrow({ ...query, where: { id: org.id } });
    },
  }),
}));
