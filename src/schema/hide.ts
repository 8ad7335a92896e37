import { getNamedType, GraphQLObjectType, GraphQLSchema, isInputObjectType, type GraphQLNamedType } from 'graphql';

/**
 * The schema without some root fields (`"Mutation.settleDevInvoice"`), for features that must not
 * exist at all under some configurations. Types that only those fields used (their input types) go
 * with them. The committed schema.graphql is the schema without the dev-only fields; schema.dev.graphql
 * extends it with them (src/print-schema.ts).
 */
export function hideFields(schema: GraphQLSchema, hidden: string[]): GraphQLSchema {
  if (!hidden.length) return schema;
  const config = schema.toConfig();
  const replaced = new Map<string, GraphQLObjectType>();
  const orphanCandidates = new Set<string>();
  for (const type of [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]) {
    if (!type) continue;
    const names = hidden.filter((h) => h.startsWith(`${type.name}.`)).map((h) => h.slice(type.name.length + 1));
    if (!names.length) continue;
    for (const name of names) {
      const field = type.getFields()[name];
      if (field) for (const t of [getNamedType(field.type), ...field.args.map((a) => getNamedType(a.type))]) collectInputs(t, orphanCandidates);
    }
    const typeConfig = type.toConfig();
    const fields = Object.fromEntries(Object.entries(typeConfig.fields).filter(([name]) => !names.includes(name)));
    replaced.set(type.name, new GraphQLObjectType({ ...typeConfig, fields }));
  }
  const pick = (t: GraphQLObjectType | null | undefined) => (t ? (replaced.get(t.name) ?? t) : t);
  const build = (types: GraphQLNamedType[]) =>
    new GraphQLSchema({ ...config, query: pick(config.query), mutation: pick(config.mutation), subscription: pick(config.subscription), types });
  const all = config.types.map((t) => replaced.get(t.name) ?? t);
  // Left out of the explicit list, a candidate stays only if something still shown refers to it.
  const withoutCandidates = build(all.filter((t) => !orphanCandidates.has(t.name)));
  return build(all.filter((t) => !orphanCandidates.has(t.name) || withoutCandidates.getType(t.name)));
}

/** The type and, for an input object, the input types of its fields (the parts only a hidden field may use). */
function collectInputs(type: GraphQLNamedType, into: Set<string>) {
  if (into.has(type.name) || !isInputObjectType(type)) return;
  into.add(type.name);
  for (const field of Object.values(type.getFields())) collectInputs(getNamedType(field.type), into);
}
