import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from './helpers/db.ts';
import { loadWorld, processConfig, runSenders, startProcess, storedMessages, storedSession, until, type LoadWorld } from './helpers/load.ts';

const HOLD_SATS = 50;

/**
 * Crash durability: a real server process is killed with SIGKILL while 100 clients send room messages
 * and spend from paid sessions. After a restart on the same database, everything the server
 * acknowledged is there, seqs have no gaps, and balances add up.
 */
describe('kill -9 during 100 concurrent senders', () => {
  it('keeps every acknowledged message and debit; seqs stay contiguous; balances add up', async () => {
    const database = await createTestDatabase();
    afterAll(() => database.drop());
    const env = { DATABASE_URL: database.url, CONFAB_CONFIG: processConfig() };
    const first = await startProcess(env);
    const world: LoadWorld = await loadWorld(first.server, 2, 4);

    let kill!: () => void;
    const killed = new Promise<void>((resolve) => (kill = resolve));
    const { acks, done } = runSenders(first.client, world, 60, 40, killed);
    // Enough acknowledged of both kinds (a loaded machine is slow to get there), then kill mid-flight.
    // On SQLite (one writer) a paid turn's four transactions queue behind the room senders', so the
    // first debits take a while on a loaded machine.
    await until(() => acks.messages.length >= 50 && acks.debits.length >= 5, 150_000);
    first.proc.child.kill('SIGKILL');
    expect(await first.proc.exited).toBe(null);
    kill();
    await done;
    expect(acks.messages.length, JSON.stringify(acks.codes)).toBeGreaterThan(0);
    expect(acks.debits.length, JSON.stringify(acks.codes)).toBeGreaterThan(0);

    const second = await startProcess(env);
    const reader = world.users[0].token;
    let stored = 0;
    for (const roomId of world.roomIds) {
      const { lastSeq, all } = await storedMessages(second.server, reader, roomId);
      expect(all.map((m) => m.seq)).toEqual(Array.from({ length: lastSeq }, (_, i) => i + 1));
      const byId = new Map(all.map((m) => [m.id, m]));
      for (const ack of acks.messages.filter((m) => m.roomId === roomId)) {
        expect(byId.get(ack.id), `acknowledged message ${ack.clientMsgId}`).toMatchObject({ seq: ack.seq, clientMsgId: ack.clientMsgId });
      }
      stored += all.length;
    }
    expect(stored).toBeGreaterThanOrEqual(acks.messages.length);

    for (const s of world.sessions) {
      const { balance, deposits, requests } = await storedSession(second.server, s.token, s.id);
      const byId = new Map(requests.map((r) => [r.id, r]));
      for (const ack of acks.debits.filter((d) => d.sessionId === s.id)) {
        expect(byId.get(ack.id), `acknowledged debit ${ack.id}`).toMatchObject({ status: ack.status, chargedSats: ack.chargedSats });
      }
      expect(deposits).toBe(s.deposit);
      // Requests cut off by the kill still hold their sats (the worker gives stale holds back later).
      const debited = requests.filter((r) => r.status !== 'PENDING').reduce((sum, r) => sum + r.chargedSats, 0);
      const held = requests.filter((r) => r.status === 'PENDING').length * HOLD_SATS;
      expect(balance).toBe(deposits - debited - held);
    }
    second.proc.child.kill('SIGTERM');
    expect(await second.proc.exited).toBe(0);
  }, 300_000);
});
