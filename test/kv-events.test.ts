import { beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { subscribe } from './helpers/client.ts';
import { kvWorld, SetKey, type KvWorld } from './helpers/kv.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const DeleteKey = graphql(`mutation KvEvDelete($input: DeleteKvKeyInput!) { deleteKvKey(input: $input) { version } }`);
const Clear = graphql(`mutation KvEvClear($input: ClearKvInstanceInput!) { clearKvInstance(input: $input) { version } }`);
export const KvEventsDoc = graphql(`
  subscription KvEvStream($kvInstanceId: ID!, $afterVersion: Int) {
    kvEvents(kvInstanceId: $kvInstanceId, afterVersion: $afterVersion) {
      __typename
      ... on KvKeyUpdated { version key { name value version } }
      ... on KvKeyDeleted { version name }
      ... on KvInstanceCleared { version }
    }
  }
`);

let server: TestServer;
let world: KvWorld;
beforeAll(async () => {
  server = await startServer();
  world = await kvWorld(server);
});

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('kvEvents', () => {
  it('replays updates, deletes and clears after afterVersion, then live, without gap or duplicate across reconnects while writers run', { timeout: 120_000 }, async () => {
    const instanceId = world.instanceId;
    const auth = world.actors.writer;
    const writes: Promise<unknown>[] = [];
    let stop = false;
    // Three writers: two setting keys, one deleting them now and then; the owner clears twice.
    for (const w of [0, 1]) {
      writes.push(
        (async () => {
          for (let i = 0; !stop && i < 60; i++) await server.ok(SetKey, { input: { kvInstanceId: instanceId, name: `k${i % 5}`, value: `${w}:${i}` } }, auth);
        })(),
      );
    }
    writes.push(
      (async () => {
        for (let i = 0; !stop && i < 20; i++) await server.gql(DeleteKey, { input: { kvInstanceId: instanceId, name: `k${i % 5}` } }, auth);
      })(),
    );
    writes.push(
      (async () => {
        for (let i = 0; i < 2; i++) {
          await new Promise((r) => setTimeout(r, 300));
          await server.ok(Clear, { input: { kvInstanceId: instanceId } }, world.actors.owner);
        }
      })(),
    );
    let done = false;
    const allWritten = Promise.all(writes).then(() => (done = true));
    const seen: { version: number; kind: string }[] = [];
    let after = 0;
    let final = -1;
    // Reconnect every 15 events, resuming after the last version received, until the writers are done and all is seen.
    while (final !== after) {
      if (done) final = await finalVersion();
      const sub = subscribe(server.ws(auth), KvEventsDoc, { kvInstanceId: instanceId, afterVersion: after });
      for (let n = 0; n < 15 && after !== final; n++) {
        const e = await sub.next(done ? 5000 : 1000).catch(() => undefined);
        if (!e) break;
        const ev = e.data!.kvEvents as { __typename: string; version: number };
        seen.push({ version: ev.version, kind: ev.__typename });
        after = ev.version;
      }
      if (after === final) await sub.expectSilence(200);
      sub.close();
    }
    stop = true;
    await allWritten;
    expect(seen.map((s) => s.version)).toEqual(range(1, final));
    expect(seen.filter((s) => s.kind === 'KvInstanceCleared')).toHaveLength(2);
    expect(seen.some((s) => s.kind === 'KvKeyDeleted')).toBe(true);
  });

  it('starts after the current version without afterVersion, and stays silent without changes', async () => {
    const instanceId = world.instanceId;
    const sub = subscribe(server.ws(world.actors.reader), KvEventsDoc, { kvInstanceId: instanceId });
    await sub.expectSilence(300);
    const { setKvKey } = await server.ok(SetKey, { input: { kvInstanceId: instanceId, name: 'live', value: 'x' } }, world.actors.writer);
    expect((await sub.next()).data!.kvEvents).toEqual({ __typename: 'KvKeyUpdated', version: setKvKey.version, key: { name: 'live', value: 'x', version: setKvKey.version } });
    const bad = subscribe(server.ws(world.actors.reader), KvEventsDoc, { kvInstanceId: instanceId, afterVersion: -1 });
    expect((await bad.rejection())?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});

const FinalVersion = graphql(`query KvEvVersion($id: ID!) { node(id: $id) { ... on KvInstance { version } } }`);
async function finalVersion() {
  return ((await server.ok(FinalVersion, { id: world.instanceId }, world.actors.owner)).node as { version: number }).version;
}
