import {
  getNamedType,
  getNullableType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  isUnionType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLSchema,
} from 'graphql';

/** mulberry32: a tiny seeded PRNG, so that a failing run can be replayed from the seed it prints. */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, chance: (p: number) => next() < p, pick: <T>(xs: readonly T[]): T => xs[int(xs.length)] };
}
export type Rng = ReturnType<typeof prng>;

const b64 = (s: string) => Buffer.from(s).toString('base64');
const STRINGS = ['', ' ', 'a', 'héllo wörld', '🙂🙃'.repeat(50), '\u0000\u0001\uFFFF', '\uD800', "'; DROP TABLE users; --", '%s%n', '<script>x</script>', 'a'.repeat(5000), 'x@example.com', 'null', '-1', '1e309', '../../etc/passwd', 'ACTIVE'];
const INTS: unknown[] = [0, 1, -1, 2, 20, 100, 101, 1000, 2147483647, -2147483648, 2147483648, -2147483649, 9007199254740992, 1e308, -1e308, 1.5, '1', 'NaN', true, [1]];
const FLOATS: unknown[] = [0, -0.5, 1e-320, 1e308, -1e308, 3.14, '3.14', false];
const DAYS: unknown[] = ['2026-01-01', '2025-12-31', '2024-02-29', '2026-02-30', '0000-00-00', '2026-01-01T00:00:00Z', 'today', '', -1];
const DATES: unknown[] = ['2026-01-01T00:00:00.000Z', '1970-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '0000-00-00', 'yesterday', '', -1, 1e20, '2026-13-45T99:99:99Z'];

/** Global IDs: real ones from the fixtures, and well-formed and malformed ones of every kind. */
export function idPool(real: string[], typeNames: string[]): string[] {
  const odd = ['1', '-1', '99999999999999999999', '', 'x'.repeat(300), '🙂', "' OR 1=1 --", 'ck000000000000000000000000'];
  const wellFormed = typeNames.flatMap((t) => odd.slice(0, 3).map((raw) => b64(`${t}:${raw}`)));
  const malformed = ['', '!!!', 'VXNlcg==', b64('Nope:1'), b64(':'), b64('User'), 'a'.repeat(2000), '🙂', b64('User:1:2'), '=', 'null'];
  return [...real, ...real, ...wellFormed, ...malformed, ...odd.map((raw) => b64(`User:${raw}`))];
}

export interface FuzzOperation {
  query: string;
  variables: Record<string, unknown>;
}

/** Generates random operations and variable sets from a schema (valid shape, hostile values). */
export function createGenerator(schema: GraphQLSchema, rng: Rng, ids: string[]) {
  const json = (depth = 0): unknown =>
    depth > 3 || rng.chance(0.4)
      ? rng.pick([null, 1, 'x', true, 1e308, '🙂', []])
      : Object.fromEntries(Array.from({ length: rng.int(4) }, (_, i) => [rng.pick(['a', '__proto__', 'constructor', `k${i}`, '']), json(depth + 1)]));

  /** A value for an input type: mostly plausible, sometimes null or of the wrong type. */
  function value(type: GraphQLInputType, depth = 0): unknown {
    if (rng.chance(0.04)) return rng.pick([null, 'wrong', 42, {}, [], true]);
    if (isNonNullType(type)) return value(type.ofType, depth);
    if (rng.chance(0.05)) return null;
    if (isListType(type)) {
      if (rng.chance(0.1)) return value(type.ofType as GraphQLInputType, depth); // single-item coercion
      if (rng.chance(0.03)) return Array.from({ length: 500 }, () => rng.pick(ids)); // extreme length, cheap items
      return Array.from({ length: rng.int(4) }, () => value(type.ofType as GraphQLInputType, depth));
    }
    if (isEnumType(type)) return rng.chance(0.9) ? rng.pick(type.getValues()).name : rng.pick(['NOPE', 'active', '', 1]);
    if (isInputObjectType(type)) {
      if (depth > 4) return {};
      const out: Record<string, unknown> = {};
      for (const field of Object.values(type.getFields())) {
        const required = isNonNullType(field.type);
        if (required ? rng.chance(0.95) : rng.chance(0.5)) out[field.name] = value(field.type, depth + 1);
      }
      if (rng.chance(0.03)) out.unexpectedField = 1;
      return out;
    }
    switch ((type as GraphQLNamedType).name) {
      case 'ID':
        return rng.pick(ids);
      case 'Int':
        return rng.pick(INTS);
      case 'Float':
        return rng.pick(FLOATS);
      case 'Boolean':
        return rng.chance(0.9) ? rng.chance(0.5) : rng.pick(['true', 0]);
      case 'DateTime':
        return rng.pick(DATES);
      case 'Date':
        return rng.pick(DAYS);
      case 'JSON':
        return json();
      default:
        return rng.pick(STRINGS);
    }
  }

  let vars: Record<string, unknown>;
  let defs: string[];

  function args(field: GraphQLField<unknown, unknown>): string {
    const chosen = field.args.filter((a: GraphQLArgument) => (isNonNullType(a.type) ? rng.chance(0.97) : rng.chance(0.5)));
    if (!chosen.length) return '';
    return `(${chosen
      .map((a) => {
        const name = `v${defs.length}`;
        defs.push(`$${name}: ${String(a.type)}`);
        vars[name] = value(a.type);
        return `${a.name}: $${name}`;
      })
      .join(', ')})`;
  }

  function selection(type: GraphQLNamedType, depth: number): string {
    if (isLeafType(type)) return '';
    if (isUnionType(type) || isInterfaceType(type)) {
      const possible = schema.getPossibleTypes(type);
      const frags = Array.from({ length: 1 + rng.int(2) }, () => rng.pick(possible))
        .map((t) => `... on ${t.name} ${selection(t, depth)}`)
        .join(' ');
      return `{ __typename ${isInterfaceType(type) && rng.chance(0.5) ? 'id' : ''} ${frags} }`;
    }
    if (!isObjectType(type)) return '';
    const fields = Object.values(type.getFields());
    const leaves = fields.filter((f) => isLeafType(getNamedType(f.type)));
    const nested = depth < 4 ? fields.filter((f) => !isLeafType(getNamedType(f.type))) : [];
    const picked = new Set<GraphQLField<unknown, unknown>>();
    for (let i = 0; i < 1 + rng.int(3); i++) if (leaves.length) picked.add(rng.pick(leaves));
    for (let i = 0; i < rng.int(3); i++) if (nested.length) picked.add(rng.pick(nested));
    const parts = [...picked].map((f) => `${f.name}${args(f)} ${selection(getNamedType(f.type), depth + 1)}`);
    return `{ __typename ${parts.join(' ')} }`;
  }

  /** One operation on Query or Mutation, with its variables. */
  return function operation(): FuzzOperation {
    vars = {};
    defs = [];
    const root = rng.chance(0.65) ? schema.getQueryType()! : schema.getMutationType()!;
    const fields = Object.values(root.getFields());
    const parts = Array.from({ length: 1 + rng.int(2) }, (_, i) => {
      const f = rng.pick(fields);
      return `f${i}: ${f.name}${args(f)} ${selection(getNamedType(getNullableType(f.type)), 1)}`;
    });
    const kind = root === schema.getQueryType() ? 'query' : 'mutation';
    return { query: `${kind} Fuzz${defs.length ? `(${defs.join(', ')})` : ''} { ${parts.join(' ')} }`, variables: vars };
  };
}
