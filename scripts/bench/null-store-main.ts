/**
 * npm run bench's "ours, no store" row: the shipped process (src/run-process.ts: config, logger,
 * Express, helmet, pino-http, our middleware, the webhook controller, the policy, the queries built by
 * Kysely) with a store that answers every statement at once and keeps nothing, so the row tells the
 * store's share of a webhook from the rest. Built by the bench (esbuild) into its temporary folder; never
 * shipped. The background workers do not run (nothing is stored for them). Every select answers no rows except the aggregates the accept path reads one row of (counts
 * and the revision-id lengths), which answer zero and null: the policy then takes the target from Argo
 * CD's history in the body, as for an app the store has not seen yet.
 */
import { CompiledQuery, Kysely, SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler, type DatabaseConnection, type Driver, type QueryResult } from 'kysely';
import { runProcess } from '../../src/run-process';
import type { Store } from '../../src/store/database';
import type { Database } from '../../src/store/schema';

const ONE_ROW = /^select (count|\(select)/;

const connection: DatabaseConnection = {
  executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const rows = ONE_ROW.test(query.sql) ? [{ n: 0, shortest: null, longest: null } as R] : [];
    return Promise.resolve({ rows, numAffectedRows: 1n });
  },
  streamQuery: () => {
    throw new Error('the null store streams nothing');
  },
};

const driver: Driver = {
  init: () => Promise.resolve(),
  acquireConnection: () => Promise.resolve(connection),
  beginTransaction: () => Promise.resolve(),
  commitTransaction: () => Promise.resolve(),
  rollbackTransaction: () => Promise.resolve(),
  releaseConnection: () => Promise.resolve(),
  destroy: () => Promise.resolve(),
};

const db = new Kysely<Database>({
  dialect: {
    createAdapter: () => new SqliteAdapter(),
    createDriver: () => driver,
    createIntrospector: (k) => new SqliteIntrospector(k),
    createQueryCompiler: () => new SqliteQueryCompiler(),
  },
});

const store: Store = {
  db,
  dialect: 'sqlite',
  transaction: (work) => db.transaction().execute(work),
  migrate: () => Promise.resolve(),
  reclaimSpace: () => Promise.resolve({ pages: 0, heldMs: 0 }),
  changeStamp: () => Promise.resolve('0'),
  problem: () => undefined,
  ping: () => Promise.resolve(),
  probeWrite: () => Promise.resolve(),
  lockApp: () => Promise.resolve(),
  close: () => db.destroy(),
};

// No workers: with nothing stored they have nothing to do, and a store that claims every lease for them
// (every update "changes a row") would keep them busy on nothing.
runProcess({ store, workers: false }).catch((error: unknown) => {
  process.stderr.write(`null-store service failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
