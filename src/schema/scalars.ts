import { Kind } from 'graphql';
import { badInput } from '../errors.ts';
import { builder } from './builder.ts';

builder.scalarType('DateTime', {
  description: 'An ISO-8601 date-time string in UTC.',
  serialize: (value) => (value instanceof Date ? value.toISOString() : new Date(value).toISOString()),
  parseValue: (value) => {
    const date = typeof value === 'string' || typeof value === 'number' ? new Date(value) : undefined;
    if (!date || Number.isNaN(date.getTime())) throw badInput('Invalid DateTime: expected an ISO-8601 string');
    return date;
  },
  parseLiteral: (ast) => {
    const date = ast.kind === Kind.STRING ? new Date(ast.value) : undefined;
    if (!date || Number.isNaN(date.getTime())) throw badInput('Invalid DateTime: expected an ISO-8601 string');
    return date;
  },
});

/** `YYYY-MM-DD` naming a real calendar day (no time, no zone). */
const isCalendarDay = (value: unknown): value is string => {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const day = new Date(`${value}T00:00:00Z`);
  // 2025-13-01 is no date at all; 2025-02-30 would roll over into March.
  return !Number.isNaN(day.getTime()) && day.toISOString().startsWith(value);
};

builder.scalarType('Date', {
  description: 'A calendar day, `YYYY-MM-DD` (ISO 8601), without a time or a zone; Confab counts days in UTC.',
  serialize: (value: unknown) => (value instanceof Date ? value.toISOString().slice(0, 10) : String(value)),
  parseValue: (value) => {
    if (!isCalendarDay(value)) throw badInput('Invalid Date: expected a calendar day, YYYY-MM-DD');
    return value;
  },
  parseLiteral: (ast) => {
    const value = ast.kind === Kind.STRING ? ast.value : undefined;
    if (!isCalendarDay(value)) throw badInput('Invalid Date: expected a calendar day, YYYY-MM-DD');
    return value;
  },
});

builder.scalarType('JSON', {
  description: 'Any JSON value.',
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: function parse(ast): unknown {
    switch (ast.kind) {
      case Kind.STRING:
      case Kind.BOOLEAN:
        return ast.value;
      case Kind.INT:
      case Kind.FLOAT:
        return Number(ast.value);
      case Kind.NULL:
        return null;
      case Kind.LIST:
        return ast.values.map((v) => parse(v));
      case Kind.OBJECT:
        return Object.fromEntries(ast.fields.map((f) => [f.name.value, parse(f.value)]));
      default:
        throw badInput('Variables are not allowed inside JSON literals');
    }
  },
});

builder.queryType({ description: 'Reads: the signed-in viewer (`me`), lookups by ID, search and the models this server allows.' });
builder.mutationType({ description: 'Writes. Each takes one `input: <MutationName>Input!`; deletes answer `deletedId` (docs/api/conventions.md).' });
builder.subscriptionType({
  description: 'Live events over graphql-ws. Streams of a durable sequence resume with an `after…` cursor, with no gap and no duplicate.',
});
