/**
 * The floor for `npm run bench requests`: a bare graphql-yoga server (no plugins, no auth, no database), in its own
 * process, run by bench/requests.ts with the same node binary as Confab's server and NODE_ENV=production.
 *
 * `type Query { hello: String }` over node:http's createServer, GraphiQL off, no logging. Listens on 127.0.0.1 at the
 * port given as its first argument; tells its parent `ready` over IPC when listening; exits when the parent is gone
 * (the IPC channel closes) or on SIGTERM.
 */
import { createServer } from 'node:http';
import { createSchema, createYoga } from 'graphql-yoga';

const port = Number(process.argv[2]);
const yoga = createYoga({
  schema: createSchema({ typeDefs: 'type Query { hello: String }', resolvers: { Query: { hello: () => 'world' } } }),
  logging: false,
  graphiql: false,
});
const server = createServer(yoga);
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
server.listen(port, '127.0.0.1', () => process.send?.('ready'));
