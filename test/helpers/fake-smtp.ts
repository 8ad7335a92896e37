import { SMTPServer } from 'smtp-server';
import { leftovers } from './leftovers.ts';

export interface ReceivedMail {
  from: string;
  to: string[];
  /** The raw message (headers and body as sent). */
  raw: string;
  /** The text body, quoted-printable decoded. */
  text: string;
  /** The first `/app/#/<route>?token=` link in the body, if any. */
  link?: string;
  /** That link's route (`reset`, `verify`). */
  route?: string;
  token?: string;
}

export interface FakeSmtp {
  url: string;
  received: ReceivedMail[];
  /** The next mail to `to` with a link of `route` that has not been taken yet (waits up to `timeoutMs`). */
  next(to: string, route: string, timeoutMs?: number): Promise<ReceivedMail>;
  /** Resolves if no mail to `to` with a link of `route` arrives within `ms` (rejects with the mail otherwise). */
  expectNone(to: string, route: string, ms?: number): Promise<void>;
  /** Holds every mail's DATA unanswered until `release()`: the sender waits on the server meanwhile. */
  hold(): void;
  /** Resolves once a mail is being held (its DATA received, not answered). */
  holding(): Promise<void>;
  release(): void;
  stop(): Promise<void>;
}

/** Quoted-printable (RFC 2045): soft line breaks and `=XX` bytes. */
const decodeQp = (s: string) =>
  Buffer.from(
    s.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))),
    'latin1',
  ).toString('utf8');

function parse(raw: string, from: string, to: string[]): ReceivedMail {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split);
  const body = raw.slice(split + 4);
  const text = /content-transfer-encoding:\s*quoted-printable/i.test(head) ? decodeQp(body) : body;
  const found = /https?:\/\/\S+\/app\/#\/(\w+)\?token=[\w%-]+/.exec(text);
  const link = found?.[0];
  const token = link ? decodeURIComponent(new URL(link.replace('#/', '')).searchParams.get('token') ?? '') : undefined;
  return { from, to, raw, text, link, route: found?.[1], token };
}

/** An SMTP server on loopback that keeps what it receives (no TLS: smtp-server's built-in certificate has expired). */
export async function startFakeSmtp(): Promise<FakeSmtp> {
  const received: ReceivedMail[] = [];
  const taken = new Set<ReceivedMail>();
  const waiters: (() => void)[] = [];
  let held: { promise: Promise<void>; release: () => void; reached: Promise<void>; reach: () => void } | undefined;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', async () => {
        if (held) {
          held.reach();
          await held.promise;
        }
        const to = session.envelope.rcptTo.map((r) => r.address.toLowerCase());
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        received.push(parse(Buffer.concat(chunks).toString('utf8'), from, to));
        for (const w of waiters.splice(0)) w();
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as { port: number }).port;
  const find = (to: string, route: string) => received.find((m) => !taken.has(m) && m.route === route && m.to.includes(to.toLowerCase()));
  const stop = () => new Promise<void>((resolve) => server.close(() => resolve()));
  leftovers.push(stop);
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    async next(to, route, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const mail = find(to, route);
        if (mail) {
          taken.add(mail);
          return mail;
        }
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no mail to ${to} within ${timeoutMs} ms (got ${received.length} in all)`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, left);
          waiters.push(() => (clearTimeout(t), resolve()));
        });
      }
    },
    async expectNone(to, route, ms = 500) {
      await new Promise((r) => setTimeout(r, ms));
      const mail = find(to, route);
      if (mail) throw new Error(`unexpected mail to ${to}: ${mail.raw.slice(0, 300)}`);
    },
    hold() {
      let release!: () => void;
      let reach!: () => void;
      const promise = new Promise<void>((resolve) => (release = resolve));
      const reached = new Promise<void>((resolve) => (reach = resolve));
      held = { promise, release, reached, reach };
    },
    holding: () => held?.reached ?? Promise.resolve(),
    release() {
      held?.release();
      held = undefined;
    },
    stop: async () => {
      held?.release();
      await stop();
    },
  };
}
