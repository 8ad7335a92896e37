import { readFileSync } from 'node:fs';
import {
  buildSchema,
  getNamedType,
  isInputObjectType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLField,
  } from 'graphql';
import { describe, expect, it } from 'vitest';
import { committedSchema } from './helpers/committed-schema.ts';

/**
 * The API conventions of docs/api/conventions.md that graphql-eslint cannot check (eslint.config.js checks the
 * rest), asserted on the committed schema.graphql with schema.dev.graphql extended onto it.
 */
const schema = committedSchema();
const mutations = Object.values(schema.getMutationType()!.getFields());
const queries = Object.values(schema.getQueryType()!.getFields());
const subscriptions = Object.values(schema.getSubscriptionType()!.getFields());
const objectTypes = Object.values(schema.getTypeMap()).filter((type) => isObjectType(type) && !type.name.startsWith('__'));

/** Root lookups may take a bare `id`: their name already says what it identifies. */
const ROOT_LOOKUPS = new Set(['node', 'room', 'thread', 'org', 'project', 'session']);
/** Where a JSON value's shape belongs to the caller, not to Confab. */
const CALLER_JSON = new Set(['metadata', 'value', 'payload', 'arguments', 'params']);
/** Confab's JSON whose shape differs per kind, each kind's shape documented (docs/api/conventions.md, Types). */
const DOCUMENTED_JSON = new Set(['AuditEntry.data']);

describe('API conventions (docs/api/conventions.md)', () => {
  it('IDs in inputs and arguments are named after what they identify, never a bare `id`', () => {
    const bare: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (isInputObjectType(type)) {
        for (const field of Object.values(type.getFields())) if (field.name === 'id') bare.push(`${type.name}.id`);
      }
    }
    for (const [root, fields] of [['Mutation', mutations], ['Subscription', subscriptions], ['Query', queries]] as const) {
      for (const field of fields) {
        if (root === 'Query' && ROOT_LOOKUPS.has(field.name)) continue;
        for (const arg of field.args) if (arg.name === 'id') bare.push(`${root}.${field.name}(id)`);
      }
    }
    expect(bare).toEqual([]);
  });

  it('every mutation takes one `input: <MutationName>Input!` of its own', () => {
    const wrong = mutations
      .filter((field) => {
        const expected = `${field.name[0].toUpperCase()}${field.name.slice(1)}Input`;
        return field.args.length !== 1 || field.args[0].name !== 'input' || String(field.args[0].type) !== `${expected}!`;
      })
      .map((field) => field.name);
    expect(wrong).toEqual([]);
  });

  it('every delete or remove returns <MutationName>Payload with `deletedId: ID!`', () => {
    // A reaction is not a node: removing one changes its message's summary, so it answers the message.
    const removals = mutations.filter((field) => /^(?:delete|remove|leave|unlink|unsubscribe|unshare|detach)[A-Z]/.test(field.name) && field.name !== 'removeReaction');
    expect(removals.length).toBeGreaterThan(5);
    const wrong = removals
      .filter((field) => {
        const type = getNamedType(field.type);
        const payload = `${field.name[0].toUpperCase()}${field.name.slice(1)}Payload`;
        if (type.name !== payload || !isObjectType(type)) return true;
        const deletedId = type.getFields().deletedId;
        return !deletedId || String(deletedId.type) !== 'ID!';
      })
      .map((field) => `${field.name}: ${String(field.type)}`);
    expect(wrong).toEqual([]);
  });

  it('root lookups are nullable (a missing or hidden object is null plus NOT_FOUND)', () => {
    const lookups = queries.filter((field) => ROOT_LOOKUPS.has(field.name));
    expect(lookups.map((field) => field.name).sort()).toEqual([...ROOT_LOOKUPS].sort());
    expect(lookups.filter((field) => isNonNullType(field.type)).map((field) => field.name)).toEqual([]);
  });

  it('self-only data is on `me: Viewer`, and `me` is null when signed out', () => {
    const me = schema.getQueryType()!.getFields().me;
    expect(String(me.type)).toBe('Viewer');
    const viewer = schema.getType('Viewer');
    expect(isObjectType(viewer)).toBe(true);
    if (!isObjectType(viewer)) return;
    for (const field of ['orgs', 'rooms', 'notifications', 'trust', 'email']) expect(Object.keys(viewer.getFields())).toContain(field);
    const user = schema.getType('User');
    if (!isObjectType(user)) throw new Error('User is not an object type');
    // A user's email stays on User: org members see each other's (never FORBIDDEN).
    for (const field of ['orgs', 'rooms', 'notifications', 'trust', 'projects', 'threads']) expect(Object.keys(user.getFields())).not.toContain(field);
  });

  it('messages of both kinds have `author` and `metadata`; nothing is called `sender` or `meta`', () => {
    for (const name of ['RoomMessage', 'ThreadMessage']) {
      const type = schema.getType(name);
      if (!isObjectType(type)) throw new Error(`${name} is not an object type`);
      expect(Object.keys(type.getFields())).toEqual(expect.arrayContaining(['author', 'metadata']));
    }
    const old = everyField().filter(([, field]) => field.name === 'sender' || field.name === 'meta').map(([owner, field]) => `${owner}.${field.name}`);
    expect(old).toEqual([]);
  });

  it('instants are DateTime fields ending in `At`; JSON only where the shape is the caller’s', () => {
    const wrong: string[] = [];
    for (const [owner, field] of everyField()) {
      const type = getNamedType(field.type);
      if (field.name.endsWith('At') && type.name !== 'DateTime') wrong.push(`${owner}.${field.name}: ${type.name}`);
      if (type.name === 'DateTime' && !field.name.endsWith('At') && field.name !== 'at') wrong.push(`${owner}.${field.name} is a DateTime not ending in At`);
      if (isScalarType(type) && type.name === 'JSON' && !CALLER_JSON.has(field.name) && !DOCUMENTED_JSON.has(`${owner}.${field.name}`)) wrong.push(`${owner}.${field.name}: JSON`);
    }
    expect(wrong).toEqual([]);
  });

  it('amounts carry their unit', () => {
    const money = /^(?:amount|balance|cost|price|fee|charged|absorbed|spent|budget)/i;
    const wrong = everyField()
      .filter(([, field]) => money.test(field.name) && ['Int', 'Float'].includes(getNamedType(field.type).name))
      .filter(([, field]) => !/(?:Sats|Msats|Tokens|Usd)$/.test(field.name))
      .map(([owner, field]) => `${owner}.${field.name}`);
    expect(wrong).toEqual([]);
  });

  it('searchMessages is a connection over the SearchResult union', () => {
    const search = queries.find((field) => field.name === 'searchMessages');
    expect(search).toBeDefined();
    const connection = getNamedType(search!.type);
    expect(connection.name.endsWith('Connection')).toBe(true);
    const union = schema.getType('SearchResult');
    expect(union && 'getTypes' in union ? (union as unknown as { getTypes(): readonly { name: string }[] }).getTypes().map((type) => type.name).sort() : []).toEqual(['RoomMessage', 'ThreadMessage']);
  });

  it('resumable streams take an after-cursor named after their ordering key', () => {
    const args = Object.fromEntries(subscriptions.map((field) => [field.name, field.args.map((arg) => arg.name).sort()]));
    expect(args.roomEvents).toEqual(['afterSeq', 'roomId']);
    expect(args.threadEvents).toEqual(['afterSeq', 'threadId']);
    expect(args.kvEvents).toEqual(['afterVersion', 'kvInstanceId']);
    expect(args.invoiceUpdated).toEqual(['invoiceId']);
    expect(args.sessionEvents).toEqual(['sessionId']);
  });

  it('dev-only operations are not in schema.graphql', () => {
    const production = buildSchema(readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8'));
    expect(Object.keys(production.getMutationType()!.getFields())).not.toContain('settleDevInvoice');
    expect(Object.keys(schema.getMutationType()!.getFields())).toContain('settleDevInvoice');
  });
});

function everyField(): Array<[string, GraphQLField<unknown, unknown>]> {
  return objectTypes.flatMap((type) => (isObjectType(type) ? Object.values(type.getFields()).map((field) => [type.name, field] as [string, GraphQLField<unknown, unknown>]) : []));
}
