import { finalizeEvent, generateSecretKey, getPublicKey, type Event } from 'nostr-tools/pure';
import { graphql } from '../gql/index.ts';
import type { TestServer } from './server.ts';

const Challenge = graphql(`
  mutation NostrHelperChallenge($input: CreateNostrChallengeInput!) {
    createNostrChallenge(input: $input) { challenge expiresAt }
  }
`);
const Verify = graphql(`
  mutation NostrHelperVerify($input: VerifyNostrChallengeInput!) {
    verifyNostrChallenge(input: $input) { token pubkey expiresAt }
  }
`);

/** A Nostr key pair made with nostr-tools, as a payer's client would hold it. */
export function nostrKey() {
  const secretKey = generateSecretKey();
  return { secretKey, pubkey: getPublicKey(secretKey) };
}

/** A kind 22242 event answering `challenge`, signed with `secretKey` (plain JSON, as a client sends it). */
export function signChallenge(secretKey: Uint8Array, challenge: string, opts: { kind?: number; createdAt?: number; tags?: string[][] } = {}): Event {
  const event = finalizeEvent(
    { kind: opts.kind ?? 22242, created_at: opts.createdAt ?? Math.floor(Date.now() / 1000), tags: opts.tags ?? [['relay', 'wss://confab.test'], ['challenge', challenge]], content: '' },
    secretKey,
  );
  return JSON.parse(JSON.stringify(event)) as Event;
}

export async function nostrChallenge(server: TestServer, pubkey?: string) {
  return (await server.ok(Challenge, { input: pubkey ? { pubkey } : {} })).createNostrChallenge;
}

/** Challenge, sign, verify: an x-nostr-token for the key (a new key unless given). */
export async function nostrToken(server: TestServer, key = nostrKey(), createdAt?: number) {
  const { challenge } = await nostrChallenge(server);
  const { verifyNostrChallenge } = await server.ok(Verify, { input: { event: signChallenge(key.secretKey, challenge, { createdAt }) } });
  return { ...verifyNostrChallenge, key };
}

export { Challenge as NostrChallengeDoc, Verify as NostrVerifyDoc };
