/**
 * Rows read on the driver (readRows) and turned into what Prisma's client returns for the same columns: hot reads
 * that skip Prisma's query compiler and result typing (src/modules/threads/threads.messages.ts, `room(id)`).
 * Columns come from the generated datamodel, so a model's new field is read here too.
 */
import { Prisma, readRows } from './client.ts';
import { getDatamodel } from '../generated/pothos-types.ts';

type Field = { name: string; kind: string; type: string; dbName?: string | null };
const models = getDatamodel().datamodel.models as unknown as Record<string, { dbName?: string | null; fields: Field[] }>;
const scalars = (model: string) => models[model].fields.filter((f) => f.kind === 'scalar' || f.kind === 'enum');
const column = (f: Field) => f.dbName ?? f.name;

/** A model's table name, quoted. */
export const tableOf = (model: string) => q(models[model].dbName ?? model);
/** An identifier, quoted (both databases take double quotes). */
export const q = (name: string) => `"${name.replace(/"/g, '""')}"`;

const PG_TIMESTAMP = /^\d{4}-\d\d-\d\d \d\d:\d\d/;
function dateInput(v: unknown): string | number {
  if (typeof v === 'bigint' || typeof v === 'number') return Number(v);
  const text = String(v);
  if (/^\d+$/.test(text)) return Number(text);
  return PG_TIMESTAMP.test(text) ? `${text.replace(' ', 'T')}Z` : text;
}

/** A DateTime column's value as readRows gives it (either database), as a Date. */
export const dateValue = (v: unknown): Date | null => (v == null ? null : v instanceof Date ? v : new Date(dateInput(v)));

/** A converter from a driver's value to what Prisma's client returns for the field, chosen once per field. */
function converter(f: Field): (v: unknown) => unknown {
  switch (f.type) {
    case 'DateTime':
      // SQLite gives the stored text (ISO 8601 with its offset) or epoch milliseconds; PostgreSQL (readRows) the
      // `timestamp` text without a zone, which Prisma writes in UTC.
      return dateValue;
    case 'Json':
      return (v) => (v == null ? null : typeof v === 'string' ? JSON.parse(v) : v);
    case 'Boolean':
      return (v) => (v == null ? null : typeof v === 'boolean' ? v : Boolean(Number(v)));
    case 'Int':
    case 'Float':
      return (v) => (v == null ? null : typeof v === 'number' ? v : Number(v));
    case 'BigInt':
      return (v) => (v == null ? null : typeof v === 'bigint' ? v : BigInt(v as string));
    default:
      return (v) => v ?? null;
  }
}

export interface Columns {
  fields: { name: string; convert: (v: unknown) => unknown }[];
  /** `alias."column", …` (rows come as arrays: rowTo reads them by position) */
  sql: string;
}

/** A model's scalar columns under a table alias, with their converters (build once, keep). */
export function columnsOf(model: string, alias: string, leaveOut: string[] = []): Columns {
  const fields = scalars(model).filter((f) => !leaveOut.includes(f.name));
  return {
    fields: fields.map((f) => ({ name: f.name, convert: converter(f) })),
    sql: fields.map((f) => `${alias}.${q(column(f))}`).join(', '),
  };
}

/** The object for `fields`, whose values start at column `from` of an array row (readRows). */
export function rowTo(fields: Columns['fields'], row: unknown[], from = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < fields.length; i++) out[fields[i].name] = fields[i].convert(row[from + i]);
  return out;
}

const byIdSql = new Map<string, { columns: Columns; sql: string }>();

/**
 * Rows of a model by id, every scalar, as `findMany({ where: { id: { in: ids } } })` returns them, in the order of
 * `ids` (null where missing). For prismaFields whose selection loads nothing nested (Pothos passes an empty `query`).
 */
export async function rowsById<T>(model: string, ids: readonly string[]): Promise<(T | null)[]> {
  let read = byIdSql.get(model);
  if (!read) {
    const columns = columnsOf(model, 't');
    byIdSql.set(model, (read = { columns, sql: `SELECT ${columns.sql} FROM ${tableOf(model)} t WHERE t.${q('id')} IN ` }));
  }
  if (!ids.length) return [];
  const rows = await readRows(Prisma.sql`${Prisma.raw(read.sql)}(${Prisma.join(ids)})`);
  const found = new Map(rows.map((row) => { const r = rowTo(read.columns.fields, row); return [r.id as string, r as T]; }));
  return ids.map((id) => found.get(id) ?? null);
}

/** One row by id (rowsById). */
export const rowById = async <T>(model: string, id: string): Promise<T | null> => (await rowsById<T>(model, [id]))[0];
