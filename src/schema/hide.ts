import { GraphQLObjectType, GraphQLSchema } from 'graphql';

/**
 * The schema without some root fields (`"Mutation.settleDevInvoice"`), for features that must not
 * exist at all under some configurations. The committed schema.graphql is the full schema.
 */
export function hideFields(schema: GraphQLSchema, hidden: string[]): GraphQLSchema {
  if (!hidden.length) return schema;
  const config = schema.toConfig();
  const replaced = new Map<string, GraphQLObjectType>();
  for (const type of [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]) {
    if (!type) continue;
    const names = hidden.filter((h) => h.startsWith(`${type.name}.`)).map((h) => h.slice(type.name.length + 1));
    if (!names.length) continue;
    const typeConfig = type.toConfig();
    const fields = Object.fromEntries(Object.entries(typeConfig.fields).filter(([name]) => !names.includes(name)));
    replaced.set(type.name, new GraphQLObjectType({ ...typeConfig, fields }));
  }
  const pick = (t: GraphQLObjectType | null | undefined) => (t ? (replaced.get(t.name) ?? t) : t);
  return new GraphQLSchema({
    ...config,
    query: pick(config.query),
    mutation: pick(config.mutation),
    subscription: pick(config.subscription),
    types: config.types.map((t) => replaced.get(t.name) ?? t),
  });
}
