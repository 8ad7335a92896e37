/**
 * Live-delivery measurement shared by `bench fanout` and `bench inbox` (the leading `_` keeps `npm run bench` from
 * running it): the raw `ws` floor server (bench/_raw-ws.ts) as a child process, and the paced-then-burst measurement
 * of one message reaching every subscriber.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { freePort, percentile, processCpuMs, root, sleep } from './_lib.ts';

export const now = () => performance.now();

/** Kills `child` if this process exits first (a benchmark failing midway must not leave it running). */
export function killOnExit(child: ChildProcess) {
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  child.once('exit', () => process.off('exit', kill));
}

export interface RawServer {
  child: ChildProcess;
  port: number;
  cpuMs(): number;
  rssKb(): number;
  /** Heap in use after a full GC, in KB (started with `gc`). */
  heapAfterGcKb(): Promise<number | undefined>;
  send(body: Record<string, unknown>): Promise<string>;
  stop(): Promise<void>;
}

/** The floor server (bench/_raw-ws.ts) as a child process. */
export async function startRaw(opts: { gc?: boolean } = {}): Promise<RawServer> {
  const port = await freePort();
  const child = spawn(process.execPath, [...(opts.gc ? ['--expose-gc'] : []), '--import', 'tsx', 'bench/_raw-ws.ts', String(port)], { cwd: root, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  killOnExit(child);
  await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`raw ws server exited with ${code}`)));
  });
  return {
    child,
    port,
    cpuMs: () => processCpuMs(child.pid!),
    rssKb: () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]),
    heapAfterGcKb: () => new Promise((resolve) => {
      child.once('message', (m: { heapKb?: number }) => resolve(m.heapKb));
      child.send({ gc: true });
    }),
    send: (body) => fetch(`http://127.0.0.1:${port}/send`, { method: 'POST', body: JSON.stringify(body) }).then((r) => r.text()),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

export interface Result { p50: number; p99: number; lastP99: number; perSecond: number; cpuUsPerDelivery: number }

/**
 * Paced latency then burst throughput, given a way to send `content` and a registry of arrivals: three warm-up
 * messages, `messages` paced ones (each awaited at every subscriber), then a burst of `burst`, five in flight.
 */
export async function measure(
  send: (content: string, seq: number) => Promise<unknown>,
  arrivals: Map<string, number[]>,
  sentAt: Map<string, number>,
  count: number,
  cpuMs: () => number,
  { messages, burst }: { messages: number; burst: number },
): Promise<Result> {
  const waitAll = async (content: string) => {
    for (const deadline = Date.now() + 60_000; (arrivals.get(content)?.length ?? 0) < count; await sleep(1)) {
      if (Date.now() > deadline) throw new Error(`only ${arrivals.get(content)?.length ?? 0} of ${count} got ${content}`);
    }
  };
  let seq = 0;
  const timed = async (content: string) => {
    arrivals.set(content, []);
    sentAt.set(content, now());
    await send(content, ++seq);
  };
  for (let i = 0; i < 3; i++) {
    await timed(`warm-${i}`);
    await waitAll(`warm-${i}`);
  }
  const deliveries: number[] = [];
  const last: number[] = [];
  for (let i = 0; i < messages; i++) {
    const content = `lat-${String(i).padStart(4, '0')}`;
    await timed(content);
    await waitAll(content);
    const got = arrivals.get(content)!;
    deliveries.push(...got);
    last.push(Math.max(...got));
    await sleep(20);
  }
  const contents = Array.from({ length: burst }, (_, i) => `brs-${String(i).padStart(4, '0')}`);
  for (const c of contents) arrivals.set(c, []);
  const queue = [...contents];
  const cpu = cpuMs();
  const t = now();
  await Promise.all(Array.from({ length: 5 }, async () => {
    for (let c = queue.shift(); c; c = queue.shift()) {
      sentAt.set(c, now());
      await send(c, ++seq);
    }
  }));
  for (const c of contents) await waitAll(c);
  const cpuUsPerDelivery = ((cpuMs() - cpu) * 1000) / (burst * count);
  // A loop, not Math.max(...): a burst of many messages to many subscribers has more values than a call takes arguments.
  let end = -Infinity;
  for (const c of contents) for (const d of arrivals.get(c)!) end = Math.max(end, sentAt.get(c)! + d);
  return { p50: percentile(deliveries, 50), p99: percentile(deliveries, 99), lastP99: percentile(last, 99), perSecond: (burst * count) / ((end - t) / 1000), cpuUsPerDelivery };
}

/** Arrival bookkeeping for measure(): `onContent` records when a subscriber got the message with that content. */
export function recorder() {
  const sentAt = new Map<string, number>();
  const arrivals = new Map<string, number[]>();
  const onContent = (content: string) => {
    const at = now();
    arrivals.get(content)?.push(at - sentAt.get(content)!);
  };
  return { sentAt, arrivals, onContent };
}
