/** A shared connection's totalCount: what the field's `totalCount` option (a count, or a function) left on it. */
export const totalCountOf = (connection: object) => {
  const { totalCount } = connection as { totalCount?: number | (() => number | Promise<number>) };
  return typeof totalCount === 'function' ? totalCount() : (totalCount ?? 0);
};
