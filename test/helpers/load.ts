import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { graphql } from '../gql/index.ts';
import { createGqlClient, type GqlClient } from './client.ts';
import { orgWithMembers, type TestUser } from './fixtures.ts';
import { paidSession } from './paid.ts';
import { spawnServer, type ServerProcess } from './process.ts';
import type { TestServer } from './server.ts';

const CreateRoom = graphql(`mutation LoadCreateRoom($input: CreateRoomInput!) { createRoom(input: $input) { id } }`);
export const LoadSend = graphql(`mutation LoadSend($input: SendMessageInput!) { sendMessage(input: $input) { id seq clientMsgId } }`);
export const LoadSpend = graphql(`
  mutation LoadSpend($input: SendSessionMessageInput!) { sendSessionMessage(input: $input) { request { id status chargedSats } } }
`);

/** A config file for real server processes: cheap password hashing (fixtures register users). */
export function processConfig(extra = ''): string {
  const dir = mkdtempSync(join(tmpdir(), 'confab-load-'));
  const file = join(dir, 'confab.toml');
  writeFileSync(file, `[auth]\npassword_hash_cost = 10\n[paid_sessions]\nopen_per_minute = 0\n${extra}\n`);
  return file;
}

/** Starts `confab serve` as a process; `client` talks to it like a TestServer does. */
export async function startProcess(env: Record<string, string>) {
  const proc = await spawnServer({ CONFAB_SECRET_KEY: 's'.repeat(40), ...env });
  const client = createGqlClient(`${proc.origin}/graphql`, `ws://127.0.0.1:${proc.port}/graphql`);
  return { proc, client, server: client as unknown as TestServer };
}

export interface LoadWorld {
  orgId: string;
  users: TestUser[];
  roomIds: string[];
  sessions: { id: string; token: string; deposit: number }[];
}

/** An org of five people sharing `rooms` rooms, and `sessions` paid anonymous sessions. */
export async function loadWorld(server: TestServer, rooms: number, sessions: number, deposit = 10_000): Promise<LoadWorld> {
  const { org, owner, members } = await orgWithMembers(server, 4);
  const users = [owner, ...members];
  const roomIds: string[] = [];
  for (let i = 0; i < rooms; i++) {
    const { createRoom } = await server.ok(CreateRoom, { input: { orgId: org.id, type: 'GROUP', name: `load-${i}`, memberIds: members.map((m) => m.id) } }, { token: owner.token });
    roomIds.push(createRoom.id);
  }
  const paid: LoadWorld['sessions'] = [];
  for (let i = 0; i < sessions; i++) {
    const s = await paidSession(server, deposit);
    paid.push({ id: s.session.id, token: s.token, deposit });
  }
  return { orgId: org.id, users, roomIds, sessions: paid };
}

export interface Acks {
  messages: { roomId: string; id: string; seq: number; clientMsgId: string }[];
  debits: { sessionId: string; id: string; chargedSats: number; status: string }[];
  /** Requests answered with an error (any code) or cut off: not acknowledged. */
  failed: number;
  /** The error codes seen, with counts (to tell expected refusals from defects). */
  codes: Record<string, number>;
}

/**
 * `roomSenders` loops sending room messages and `sessionSenders` loops spending from paid sessions,
 * all at once, until `until` resolves; each records only what the server acknowledged. A request
 * whose connection breaks ends its loop.
 */
export function runSenders(client: GqlClient, world: LoadWorld, roomSenders: number, sessionSenders: number, until: Promise<unknown>) {
  const acks: Acks = { messages: [], debits: [], failed: 0, codes: {} };
  const refused = (res: { errors?: readonly { message: string; extensions?: Record<string, unknown> }[] }) => {
    acks.failed++;
    const code = String(res.errors?.[0]?.extensions?.code ?? res.errors?.[0]?.message ?? 'none');
    acks.codes[code] = (acks.codes[code] ?? 0) + 1;
  };
  let stop = false;
  void until.then(() => (stop = true));
  const roomLoop = async (i: number) => {
    const user = world.users[i % world.users.length];
    const roomId = world.roomIds[i % world.roomIds.length];
    for (let n = 0; !stop; n++) {
      const clientMsgId = `r${i}-${n}`;
      const res = await client.gql(LoadSend, { input: { roomId, content: `message ${clientMsgId}`, clientMsgId } }, { token: user.token }).catch(() => null);
      if (!res) return void acks.failed++;
      if (res.data?.sendMessage) acks.messages.push({ roomId, ...res.data.sendMessage, clientMsgId });
      else refused(res);
    }
  };
  const sessionLoop = async (i: number) => {
    const s = world.sessions[i % world.sessions.length];
    for (let n = 0; !stop; n++) {
      const input = { sessionId: s.id, content: `spend ${i}-${n}`, model: 'echo', clientMsgId: `s${i}-${n}` };
      const res = await client.gql(LoadSpend, { input }, { token: s.token }).catch(() => null);
      if (!res) return void acks.failed++;
      const r = res.data?.sendSessionMessage.request;
      if (r) acks.debits.push({ sessionId: s.id, id: r.id, chargedSats: r.chargedSats, status: r.status });
      else refused(res);
    }
  };
  const done = Promise.all([
    ...Array.from({ length: roomSenders }, (_, i) => roomLoop(i)),
    ...Array.from({ length: sessionSenders }, (_, i) => sessionLoop(i)),
  ]);
  return { acks, done };
}

/** Resolves once `check` holds (polled), or after `ms` anyway. */
export async function until(check: () => boolean, ms: number) {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

const RoomPage = graphql(`
  query CrashRoomPage($id: ID!, $after: Int!) { room(id: $id) { lastSeq messages(afterSeq: $after, first: 100) { edges { node { id seq clientMsgId } } } } }
`);
const SessionPage = graphql(`
  query CrashSessionPage($id: ID!, $after: String) {
    node(id: $id) {
      ... on Session {
        balanceSats
        invoices(first: 50) { edges { node { state amountSats } } }
        requests(first: 100, after: $after) { pageInfo { hasNextPage endCursor } edges { node { id status chargedSats } } }
      }
    }
  }
`);

/** Every stored message of a room, by seq, read through the API. */
export async function storedMessages(server: TestServer, token: string, roomId: string) {
  const all: { id: string; seq: number; clientMsgId?: string | null }[] = [];
  let lastSeq: number;
  for (let after = 0; ; ) {
    const { room } = await server.ok(RoomPage, { id: roomId, after }, { token });
    lastSeq = room!.lastSeq;
    const page = room!.messages.edges.map((e) => e.node);
    all.push(...page);
    if (page.length < 100) break;
    after = page[page.length - 1].seq;
  }
  return { lastSeq, all };
}

/** A paid session's balance, paid deposits and every request, read through the API. */
export async function storedSession(server: TestServer, token: string, id: string) {
  const requests: { id: string; status: string; chargedSats: number }[] = [];
  let balance: number;
  let deposits: number;
  for (let after: string | null | undefined; ; ) {
    const { node } = await server.ok(SessionPage, { id, after }, { token });
    if (!node || !('balanceSats' in node)) throw new Error('session not visible');
    const s = node as Extract<typeof node, { balanceSats: number }>;
    balance = s.balanceSats;
    deposits = s.invoices!.edges.filter((e) => e.node.state === 'PAID').reduce((sum, e) => sum + e.node.amountSats, 0);
    requests.push(...s.requests!.edges.map((e) => e.node));
    if (!s.requests!.pageInfo.hasNextPage) break;
    after = s.requests!.pageInfo.endCursor;
  }
  return { balance, deposits, requests };
}

export type { ServerProcess };
