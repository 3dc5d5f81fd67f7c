import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql, type Transaction } from 'kysely';
import pg from 'pg';
import type { Database } from './events.table';
import { migrations } from './migrations';

export type Dialect = 'sqlite' | 'postgres';

export interface Store {
  readonly db: Kysely<Database>;
  readonly dialect: Dialect;
  /** Runs pending migrations; throws with the failing migration's name. */
  migrate(): Promise<void>;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  /**
   * Serialises rollback decisions for one app until `trx` ends, so the loop guard's count and the
   * insert that follows cannot interleave with another replica's. SQLite needs nothing: one connection
   * per process runs one transaction at a time.
   */
  lockApp(trx: Transaction<Database>, app: string): Promise<void>;
  close(): Promise<void>;
}

export interface StoreOptions {
  /** Called when an idle PostgreSQL connection fails (the pool replaces it); never throws. */
  onConnectionError?: (error: Error) => void;
  /** PostgreSQL pool size per process. */
  poolSize?: number;
}

/** `sqlite:<path>`, `sqlite::memory:`, or `postgres://user@host:port/database` (also `postgresql://`). */
export function openStore(databaseUrl: string, options: StoreOptions = {}): Store {
  if (/^postgres(?:ql)?:\/\//.test(databaseUrl)) return openPostgres(databaseUrl, options);
  const match = /^sqlite:(.+)$/.exec(databaseUrl);
  if (!match?.[1]) throw new Error('DATABASE_URL: expected sqlite:<path> or postgres://…');
  return openSqlite(match[1]);
}

function withMigrations(db: Kysely<Database>, dialect: Dialect, rest: Pick<Store, 'lockApp' | 'close'>): Store {
  return {
    db,
    dialect,
    async migrate() {
      // Kysely looks for its own migration tables in every schema unless told which one; with two
      // installations in one database (one schema each) it would find the other's and skip creating its
      // own. Pin them to the schema this connection writes to.
      const migrationTableSchema =
        dialect === 'postgres' ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema : undefined;
      const migrator = new Migrator({ db, migrationTableSchema, provider: { getMigrations: () => Promise.resolve(migrations) } });
      const { error, results } = await migrator.migrateToLatest();
      const failed = results?.find((r) => r.status === 'Error');
      if (error) {
        throw new Error(`migration ${failed?.migrationName ?? '(unknown)'} failed: ${error instanceof Error ? error.message : JSON.stringify(error)}`);
      }
    },
    async ping() {
      await sql`select 1`.execute(db);
    },
    ...rest,
  };
}

function openSqlite(location: string): Store {
  const filename = location === ':memory:' ? ':memory:' : resolve(location);
  if (filename !== ':memory:') mkdirSync(dirname(filename), { recursive: true });
  const sqlite = new SQLite(filename);
  // WAL lets readers run beside the writer; synchronous=FULL makes every commit survive a power loss,
  // not only a process crash, so "202" really means "on disk".
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  let closed = false;
  return withMigrations(db, 'sqlite', {
    lockApp: () => Promise.resolve(),
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  });
}

function openPostgres(url: string, options: StoreOptions): Store {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    // Fail fast while the database is unreachable: the webhook answers 503 and Argo CD retries.
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
    application_name: 'gitops-rollback-webhook',
  });
  // A connection dropped by a database restart emits 'error': on the pool while idle, on the client
  // while checked out. Without a listener either one crashes the process, so both get one; the pool
  // then discards the broken client and the next query opens a new connection.
  const onError = (error: Error) => options.onConnectionError?.(error);
  pool.on('error', onError);
  pool.on('connect', (client) => client.on('error', onError));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  let closed = false;
  return withMigrations(db, 'postgres', {
    async lockApp(trx, app) {
      // A transaction-scoped advisory lock keyed by the app's name; released at commit or rollback.
      await sql`select pg_advisory_xact_lock(hashtextextended(${`gitops-rollback:${app}`}, 0))`.execute(trx);
    },
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  });
}
