import { builder } from '../../schema/builder.ts';
import { createChallenge, NOSTR_AUTH_KIND, verifyChallenge } from './nostr.service.ts';

const NostrChallengeRef = builder.objectRef<{ challenge: string; expiresAt: Date }>('NostrChallenge').implement({
  description: `A challenge to sign with a Nostr key: put it in a \`challenge\` tag of a kind ${NOSTR_AUTH_KIND} event (NIP-42) and send that event to verifyNostrChallenge.`,
  fields: (t) => ({
    challenge: t.exposeString('challenge', { description: 'The challenge text, to copy into the event as `["challenge", "<text>"]`.' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', description: 'The answer must be signed and sent before this (`[nostr] challenge_ttl_sec` after it was issued).' }),
  }),
});

const NostrTokenPayloadRef = builder.objectRef<{ token: string; pubkey: string; expiresAt: Date }>('NostrTokenPayload').implement({
  description: 'A short-lived proof that you hold a Nostr key, for binding it to prepaid sessions.',
  fields: (t) => ({
    token: t.exposeString('token', {
      description:
        'Send it as the `x-nostr-token` HTTP header (or `nostrToken` in graphql-ws connectionParams) with openPaidSession. It is not a login: as a bearer token it is UNAUTHENTICATED.',
    }),
    pubkey: t.exposeString('pubkey', { description: 'The proven public key, in hex.' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', description: 'When the token stops being accepted (`[nostr] token_ttl_sec` after it was issued).' }),
  }),
});

const CreateNostrChallengeInput = builder.inputType('CreateNostrChallengeInput', {
  description: 'Optionally, the key that will answer (send `{}` for any key).',
  fields: (t) => ({
    pubkey: t.string({
      description: 'Bind the challenge to this public key (64 hex characters or an npub): an answer signed by another key is refused. BAD_USER_INPUT when it is not a key.',
    }),
  }),
});

const VerifyNostrChallengeInput = builder.inputType('VerifyNostrChallengeInput', {
  description: 'A signed answer to a challenge.',
  fields: (t) => ({
    event: t.field({
      type: 'JSON',
      required: true,
      description: `The signed Nostr event (\`id\`, \`pubkey\`, \`created_at\`, \`kind\` ${NOSTR_AUTH_KIND}, \`tags\` with \`["challenge", "<challenge>"]\`, \`content\`, \`sig\`). A malformed event is BAD_USER_INPUT.`,
    }),
  }),
});

builder.mutationFields((t) => ({
  createNostrChallenge: t.field({
    type: NostrChallengeRef,
    description: 'Issues a challenge to prove a Nostr key with (anyone may ask; the server stores nothing until it is answered).',
    args: { input: t.arg({ type: CreateNostrChallengeInput, required: true, description: 'The key that will answer, if you want to name it.' }) },
    resolve: (_root, { input }, ctx) => createChallenge(ctx.app, input),
  }),
  verifyNostrChallenge: t.field({
    type: NostrTokenPayloadRef,
    description:
      'Checks a signed answer to a challenge and issues an x-nostr-token for its key. Each challenge is answered once. UNAUTHENTICATED, ' +
      'with `extensions.reason`, for a wrong kind (NOSTR_EVENT_INVALID), a bad signature (NOSTR_SIGNATURE_INVALID), a challenge this server did not ' +
      'issue or issued for another key (NOSTR_CHALLENGE_INVALID), an expired one (NOSTR_CHALLENGE_EXPIRED), one already answered (NOSTR_CHALLENGE_USED), ' +
      "or an event not created within the challenge's lifetime (NOSTR_EVENT_TIME).",
    args: { input: t.arg({ type: VerifyNostrChallengeInput, required: true, description: 'The signed event.' }) },
    resolve: (_root, { input }, ctx) => verifyChallenge(ctx.app, input),
  }),
}));
