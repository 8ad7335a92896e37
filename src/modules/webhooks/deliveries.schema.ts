import { idOf } from '../../auth/rules.ts';
import { db } from '../../db/client.ts';
import { builder } from '../../schema/builder.ts';
import type { WebhookEventType } from './webhooks.events.ts';
import { WebhookEvent } from './webhooks.schema.ts';
import { redeliver } from './webhooks.service.ts';

const WebhookDeliveryStatus = builder.enumType('WebhookDeliveryStatus', {
  description: 'Where a delivery stands.',
  values: {
    PENDING: { description: 'Not delivered yet: waiting for its first attempt or its next retry.' },
    SUCCEEDED: { description: 'The receiver answered 2xx.' },
    FAILED: { description: 'No 2xx answer within the retry window (webhooks.retry_window); no more attempts.' },
  },
});

builder.prismaNode('WebhookDelivery', {
  id: { field: 'id' },
  // node(id) of a deleted one is null rather than an error.
  nullable: true,
  description: 'One event sent (or to be sent) to one webhook, with the outcome of its attempts.',
  fields: (t) => ({
    eventId: t.exposeString('eventId', { description: 'The `id` of the body and the Confab-Event-Id header; the same for a redelivery.' }),
    eventType: t.field({ type: WebhookEvent, description: 'The kind of event.', resolve: (d) => d.eventType as WebhookEventType }),
    payload: t.field({ type: 'JSON', description: 'The JSON body, exactly as sent.', resolve: (d) => JSON.parse(d.body) }),
    status: t.expose('status', { type: WebhookDeliveryStatus, description: 'Where it stands.' }),
    attempts: t.exposeInt('attempts', { description: 'How many times it was POSTed so far.' }),
    lastStatusCode: t.exposeInt('lastStatusCode', { nullable: true, description: "The receiver's last HTTP status; null if it was not reached." }),
    lastError: t.exposeString('lastError', { nullable: true, description: 'Why the last attempt failed (the status, a timeout, a refused address); null after a success or before any attempt.' }),
    lastAttemptAt: t.expose('lastAttemptAt', { type: 'DateTime', nullable: true, description: 'When it was last POSTed; null before its first attempt.' }),
    nextAttemptAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When it will be tried next; null unless PENDING.',
      resolve: (d) => (d.status === 'PENDING' ? d.nextAttemptAt : null),
    }),
    deliveredAt: t.expose('deliveredAt', { type: 'DateTime', nullable: true, description: 'When the receiver accepted it (2xx); null until then.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the event was queued for this webhook.' }),
    webhook: t.relation('webhook', { description: 'The webhook it is for.' }),
  }),
});

builder.prismaObjectField('Webhook', 'deliveries', (t) =>
  t.relatedConnection('deliveries', {
    cursor: 'id',
    description: 'Deliveries, newest first.',
    args: { status: t.arg({ type: WebhookDeliveryStatus, description: 'Only the deliveries in this state.' }) },
    query: (args) => ({ where: args.status ? { status: args.status } : {}, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] }),
  }, { name: 'WebhookDeliveryConnection', description: 'A page of webhook deliveries.' }, { name: 'WebhookDeliveryEdge', description: 'A delivery and its cursor.' }),
);

const RedeliverInput = builder.inputType('RedeliverWebhookDeliveryInput', {
  description: 'The delivery to send again.',
  fields: (t) => ({ deliveryId: t.id({ required: true, description: 'A delivery of a webhook of an org you administer.' }) }),
});

builder.mutationField('redeliverWebhookDelivery', (t) =>
  t.prismaField({
    type: 'WebhookDelivery',
    description: 'Sends the event again as a new delivery (same event id and body), whatever became of this one.',
    args: { input: t.arg({ type: RedeliverInput, required: true, description: 'The delivery.' }) },
    resolve: async (query, _root, { input }, ctx) => {
      const copy = await redeliver(ctx, idOf(input.deliveryId, 'WebhookDelivery', 'deliveryId'));
      return db.webhookDelivery.findUniqueOrThrow({ ...query, where: { id: copy.id } });
    },
  }),
);
