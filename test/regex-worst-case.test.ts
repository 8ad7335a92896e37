import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { createGqlClient, type GqlClient } from './helpers/client.ts';
import { createTestDatabase, type TestDatabase } from './helpers/db.ts';
import { kvWorld, SetKey, type KvWorld } from './helpers/kv.ts';
import { spawnServer, type ServerProcess } from './helpers/process.ts';
import type { TestServer } from './helpers/server.ts';

/**
 * Worst-case inputs for the regular expressions that see user input. Each adversarial input is about
 * 100,000 characters (or the most the API takes) and must be answered within a bound that is generous
 * for a loaded CI machine yet orders of magnitude below what super-linear matching would cost: the old
 * template expression took 3.9 s for 2,000 spaces and grows with n³, so days for 100,000.
 */
const BOUND_MS = 10_000;

const Transform = graphql(`mutation RegexWorstTransform($input: TransformKvInput!) { transformKv(input: $input) { name value type } }`);

const codeOf = (res: { errors?: readonly { extensions?: Record<string, unknown> }[] }) => res.errors?.[0]?.extensions?.code;

/** Resolves with the promise's value, or fails the test naming `what` once `ms` have passed. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

// The server runs as its own process: if an expression freezes it, the test still times out and fails,
// rather than freezing with it.
describe('kv templates ({{key}} expansion) through a server process', () => {
  let database: TestDatabase;
  let proc: ServerProcess;
  let client: GqlClient;
  let w: KvWorld;

  beforeAll(async () => {
    database = await createTestDatabase();
    proc = await spawnServer({ DATABASE_URL: database.url });
    client = createGqlClient(`${proc.origin}/graphql`, `ws://127.0.0.1:${proc.port}/graphql`);
    w = await kvWorld(client as unknown as TestServer);
    await client.ok(SetKey, { input: { instanceId: w.instanceId, name: 'a', value: 'Alice' } }, w.actors.owner);
  }, 120_000);

  afterAll(async () => {
    // A frozen server does not answer SIGTERM.
    if (proc && proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGKILL');
    await proc?.exited;
    await database?.drop();
  });

  it('answers transformKv with `{{` and 100,000 spaces (a WRITE key) at once, and /health answers meanwhile', async () => {
    const template = `{{${' '.repeat(100_000)}`;
    let settled = false;
    const transform = client.gql(Transform, { input: { instanceId: w.instanceId, template, outputKey: 'out' } }, w.actors.keyWrite);
    transform.then(
      () => (settled = true),
      () => (settled = true),
    );
    let answered = 0;
    do {
      const health = await within(fetch(`${proc.origin}/health`), BOUND_MS, '/health, while transformKv expanded its template,');
      expect(health.status).toBe(200);
      answered++;
    } while (!settled);
    expect(answered).toBeGreaterThan(0);
    const res = await within(transform, BOUND_MS, 'transformKv');
    // Not a placeholder: the text goes to the model as it is (echo gives it back).
    expect(res.errors).toBeUndefined();
    expect(res.data!.transformKv).toEqual({ name: 'out', value: template, type: 'TEXT' });
  });

  it('answers the other unclosed and unbalanced shapes at the size limit at once, with their normal results', async () => {
    // Each at (or just under) transformKv's limit of 200,000 characters.
    const cases = [
      `{{a}}{{${'\t\n '.repeat(66_000)}`,
      '{{a'.repeat(66_666),
      '{'.repeat(200_000),
      '{{ a }'.repeat(33_333),
      `{{ a }} ${'{{'.repeat(99_996)}`,
    ];
    for (const template of cases) {
      const res = await within(
        client.gql(Transform, { input: { instanceId: w.instanceId, template, outputKey: 'shapes' } }, w.actors.keyWrite),
        BOUND_MS,
        `transformKv of ${JSON.stringify(template.slice(0, 12))}…`,
      );
      expect(res.errors, JSON.stringify(template.slice(0, 12))).toBeUndefined();
    }
    const unknown = `{{${' '.repeat(99_998)}zz${' '.repeat(99_996)}}}`;
    const res = await within(client.gql(Transform, { input: { instanceId: w.instanceId, template: unknown, outputKey: 'shapes' } }, w.actors.keyWrite), BOUND_MS, 'transformKv');
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect((res.errors![0] as { message: string }).message).toContain('zz');
  });

  it('keeps the meaning: one pass, names trimmed of any whitespace, no braces in a name, unknown keys all named', async () => {
    const expand = async (template: string) =>
      (await client.ok(Transform, { input: { instanceId: w.instanceId, template, outputKey: 'meaning' } }, w.actors.keyWrite)).transformKv.value;
    expect(await expand('[{{a}}] [{{ a }}] [{{\t\n a \u00a0}}] [{{{a}}}] [{{a}b}}] [{{}}] [{{a}]')).toBe('[Alice] [Alice] [Alice] [{Alice}] [{{a}b}}] [{{}}] [{{a}]');
    await client.ok(SetKey, { input: { instanceId: w.instanceId, name: 'loop', value: '{{a}} {{loop}}' } }, w.actors.owner);
    expect(await expand('{{loop}}')).toBe('{{a}} {{loop}}');
    const res = await client.gql(Transform, { input: { instanceId: w.instanceId, template: '{{ zz }} {{a}} {{yy}} {{zz}}', outputKey: 'meaning' } }, w.actors.keyWrite);
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect((res.errors![0] as { message: string }).message).toContain('zz, yy');
  });
});
