import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SQLite from 'better-sqlite3';
import { CompiledQuery, Kysely, Migrator, PostgresDialect, SqliteDialect, sql, type ControlledTransaction, type SqliteDatabase, type Transaction } from 'kysely';
import type PgModule from 'pg';
import { pgModule } from './pg-module';
import type { Database } from './schema';
import { migrations } from './migrations';
import { Checkpointer } from './checkpointer';
import { WalSync } from './wal-sync';
import { vacuumOffThread } from './vacuum-thread';
import { StoreHealth, UnconfirmedWriteError, type StoreProblem } from './store-error';
import { guardedDialect, refuseInsideTransactionWork, runAsTransactionWork } from './transaction-guard';

export type Dialect = 'sqlite' | 'postgres';

export interface Store {
  readonly db: Kysely<Database>;
  readonly dialect: Dialect;
  /**
   * Runs `work` in a transaction and resolves once it is committed (durably: the caller may answer
   * "stored" then). On SQLite, transactions that arrive together share one commit, one fsync: see
   * groupCommit. `work` must only use `trx` (no other store call, no waiting on the network).
   */
  transaction<T>(work: (trx: Transaction<Database>) => Promise<T>): Promise<T>;
  /**
   * Runs pending migrations; throws with the failing migration's name. `onStep` hears what each long
   * step is waiting for (the migrations to apply, SQLite's one-time VACUUM), for the log and /readyz.
   */
  migrate(onStep?: (waitingFor: string) => void): Promise<void>;
  /**
   * Gives the space of deleted rows back to the file system, at most `maxPages` pages in one transaction:
   * SQLite's incremental vacuum (the file is in auto_vacuum=INCREMENTAL mode); PostgreSQL's autovacuum
   * does this itself. Returns the pages freed (0 when none are left) and how long the work held the
   * transaction.
   */
  reclaimSpace(maxPages: number): Promise<{ pages: number; heldMs: number }>;
  /**
   * A value that changes whenever a write may have become visible, from this process or any other (read
   * it before the data it stands for): SQLite's count of this connection's changes and its data_version
   * (commits by other connections); PostgreSQL's current snapshot (a write transaction changes it when it
   * starts and when it commits). It may also change when nothing did; it never stays when something did.
   */
  changeStamp(): Promise<string>;
  /** The store's current problem (disk full, read-only, busy, connection lost…), while it lasts. */
  problem(): StoreProblem | undefined;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  /** Resolves when a write of `bytes` commits (one row of store_probe): whether the store takes such writes. */
  probeWrite(now: number, bytes: number): Promise<void>;
  /**
   * Serialises rollback decisions for one app until `trx` ends, so the loop guard's count and the
   * insert that follows cannot interleave with another replica's. SQLite needs nothing: one connection
   * per process runs one transaction at a time.
   */
  lockApp(trx: Transaction<Database>, app: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Every wait on PostgreSQL has a bound, so a half-open connection (the peer gone without a FIN), a stuck
 * query or a busy pool ends in an error the webhook answers 503 instead of a hang:
 * - connectTimeoutMs: opening a connection;
 * - queryTimeoutMs: a query's answer, on the client (a query never sent or never answered over a dead
 *   connection; that connection is then dropped, not reused) and as the server's statement_timeout;
 * - idleInTransactionTimeoutMs: the server ends a session idle inside a transaction this long;
 * - keepAliveMs: TCP keepalive's first probe after this much silence (0: off);
 * - poolWaitMs: waiting for a connection while all of the pool's are busy (a busy pool is not an outage).
 */
export interface PostgresLimits {
  connectTimeoutMs: number;
  queryTimeoutMs: number;
  idleInTransactionTimeoutMs: number;
  keepAliveMs: number;
  poolWaitMs: number;
}

export const DEFAULT_POSTGRES_LIMITS: PostgresLimits = { connectTimeoutMs: 5000, queryTimeoutMs: 10_000, idleInTransactionTimeoutMs: 30_000, keepAliveMs: 10_000, poolWaitMs: 10_000 };

export interface StoreOptions {
  /** PostgreSQL's bounds (default DEFAULT_POSTGRES_LIMITS). */
  postgres?: PostgresLimits;
  /** Called when an idle PostgreSQL connection fails (the pool replaces it); never throws. */
  onConnectionError?: (error: Error) => void;
  /** Called when SQLite's checkpoint thread fails (the connection then checkpoints itself); never throws. */
  onBackgroundError?: (error: Error) => void;
  /** PostgreSQL pool size per process. */
  poolSize?: number;
  /** SQLite: the WAL's length in frames (pages) past which the writer lets the checkpoint catch up. */
  walRestartFrames?: number;
  /**
   * SQLite: how often the checkpoint thread runs (default 100 ms). The writer learns the WAL's length from
   * it, so the WAL may outgrow walRestartFrames by what commits write in one interval.
   */
  checkpointIntervalMs?: number;
}

/** `sqlite:<path>`, `sqlite::memory:`, or `postgres://user@host:port/database` (also `postgresql://`). */
export function openStore(databaseUrl: string, options: StoreOptions = {}): Store {
  if (/^postgres(?:ql)?:\/\//.test(databaseUrl)) return openPostgres(databaseUrl, options);
  const match = /^sqlite:(.+)$/.exec(databaseUrl);
  if (!match?.[1]) throw new Error('DATABASE_URL: expected sqlite:<path> or postgres://…');
  return openSqlite(match[1], options);
}

function withMigrations(
  db: Kysely<Database>,
  dialect: Dialect,
  rest: Pick<Store, 'lockApp' | 'close' | 'transaction' | 'reclaimSpace' | 'changeStamp'> & { afterMigrate?: (onStep: (waitingFor: string) => void) => Promise<void> },
): Store {
  const { afterMigrate, transaction, ...parts } = rest;
  // Every write's answer: a spell of unavailable errors is kept by name (its first error) until a write succeeds.
  const health = new StoreHealth();
  return {
    problem: () => health.current(),
    transaction: <T>(work: (trx: Transaction<Database>) => Promise<T>) => {
      refuseInsideTransactionWork('a transaction');
      return transaction(work).then(
        (value) => {
          health.succeeded();
          return value;
        },
        (error: unknown) => {
          health.failed(error);
          throw error;
        },
      );
    },
    db,
    dialect,
    async migrate(onStep = () => undefined) {
      // Kysely looks for its own migration tables in every schema unless told which one; with two
      // installations in one database (one schema each) it would find the other's and skip creating its
      // own. Pin them to the schema this connection writes to.
      const migrationTableSchema =
        dialect === 'postgres' ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema : undefined;
      const migrator = new Migrator({ db, migrationTableSchema, provider: { getMigrations: () => Promise.resolve(migrations) } });
      const pending = (await migrator.getMigrations()).filter((m) => m.executedAt === undefined).map((m) => m.name);
      if (pending.length > 0) onStep(`applying ${pending.length} migration${pending.length === 1 ? '' : 's'} (${pending[0]}${pending.length > 1 ? ` … ${pending[pending.length - 1]}` : ''})`);
      const { error, results } = await migrator.migrateToLatest();
      const failed = results?.find((r) => r.status === 'Error');
      if (error) {
        throw new Error(`migration ${failed?.migrationName ?? '(unknown)'} failed: ${error instanceof Error ? error.message : JSON.stringify(error)}`);
      }
      await afterMigrate?.(onStep);
    },
    async probeWrite(now: number, bytes: number) {
      const room = String(now % 10).repeat(bytes);
      await this.transaction((trx) =>
        trx
          .insertInto('store_probe')
          .values({ id: 1, at: now, room })
          .onConflict((oc) => oc.column('id').doUpdateSet({ at: now, room }))
          .execute(),
      );
    },
    async ping() {
      try {
        await sql`select 1`.execute(db);
      } catch (error) {
        health.failed(error);
        throw error;
      }
    },
    ...parts,
  };
}

function openSqlite(location: string, options: StoreOptions): Store {
  const filename = location === ':memory:' ? ':memory:' : resolve(location);
  if (filename !== ':memory:') mkdirSync(dirname(filename), { recursive: true });
  const sqlite = new SQLite(filename);
  // WAL lets readers run beside the writer. A commit must survive a power loss, not only a process
  // crash, before anyone hears "stored": with a file, synchronous=NORMAL writes the WAL without an
  // fsync on the event loop, and group commit waits for an fsync of the WAL on libuv's thread pool
  // (WalSync) before it answers. In memory there is nothing to sync.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma(filename === ':memory:' ? 'synchronous = FULL' : 'synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  const totalChanges = sqlite.prepare('select total_changes()').pluck();
  // Retention deletes rows: the file gives their pages back with incremental_vacuum. A new file takes the
  // mode at once; an existing one needs a VACUUM, done once after its migrations (afterMigrate).
  const emptyFile = Number(sqlite.prepare('select count(*) from sqlite_master').pluck().get()) === 0;
  if (emptyFile) sqlite.pragma('auto_vacuum = INCREMENTAL');
  const db = new Kysely<Database>({ dialect: guardedDialect(new SqliteDialect({ database: withStatementCache(sqlite) })) });
  const wal = filename === ':memory:' ? undefined : new WalSync(`${filename}-wal`);
  // Checkpoints on their own thread (Checkpointer); if it fails, the connection checkpoints itself again.
  let checkpointer: Checkpointer | undefined;
  if (filename !== ':memory:') {
    sqlite.pragma('wal_autocheckpoint = 0');
    // When the WAL starts over (see Checkpointer), its file is cut back to 64 MB instead of keeping the
    // size of the longest burst.
    sqlite.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
    checkpointer = new Checkpointer(
      filename,
      (error) => {
        checkpointer = undefined;
        sqlite.pragma('wal_autocheckpoint = 1000');
        options.onBackgroundError?.(error);
      },
      { restartFrames: options.walRestartFrames, intervalMs: options.checkpointIntervalMs },
    );
  }
  // Before a group: when the WAL has grown past its bound under a steady stream of commits, wait (off the
  // event loop) for a checkpoint with no commit in between, so the group's transaction starts it over.
  const beforeGroup = () => (checkpointer?.needsCatchUp ? checkpointer.catchUp() : undefined);
  let closed = false;
  const transaction = groupCommit(db, wal ? () => wal.durable() : () => Promise.resolve(), beforeGroup);
  return withMigrations(db, 'sqlite', {
    transaction,
    lockApp: () => Promise.resolve(),
    async afterMigrate(onStep) {
      if (Number(sqlite.pragma('auto_vacuum', { simple: true })) === 2) return;
      if (filename === ':memory:') {
        sqlite.pragma('auto_vacuum = INCREMENTAL');
        sqlite.exec('VACUUM');
        return;
      }
      // A file from before retention: rewritten once, off the HTTP thread (this connection idle meanwhile).
      onStep(`converting the SQLite file to auto_vacuum=INCREMENTAL (a one-time VACUUM of ${(statSync(filename).size / 1048576).toFixed(0)} MB)`);
      await vacuumOffThread(filename);
      // This connection reads the file's auto_vacuum mode again at its next read (pragma auto_vacuum alone
      // answers what it read before), so retention's incremental_vacuum finds the new mode.
      sqlite.prepare('select count(*) from sqlite_master').get();
    },
    changeStamp() {
      // Straight on the connection, not queued behind a transaction: a change counted here before its
      // commit is read by the data query after it (that one waits for the transaction).
      return Promise.resolve(`${String(totalChanges.get())}.${String(sqlite.pragma('data_version', { simple: true }))}`);
    },
    reclaimSpace(maxPages) {
      // In a group's transaction, like any write. On the connection itself: the pragma frees one page per
      // step, and only better-sqlite3's pragma() steps it to the end (Kysely runs it for one step).
      return transaction(() => {
        const started = performance.now();
        const free = () => Number(sqlite.pragma('freelist_count', { simple: true }));
        const before = free();
        if (before > 0) sqlite.pragma(`incremental_vacuum(${Math.max(1, Math.floor(maxPages))})`);
        return Promise.resolve({ pages: before - free(), heldMs: performance.now() - started });
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      await checkpointer?.stop();
      await db.destroy();
      // Kysely closes the connection only if a query ever opened its driver: a start that failed before
      // any query (the port taken) would leave the file open.
      if (sqlite.open) sqlite.close();
      wal?.close();
    },
  });
}

/** pg's message when a query's answer did not come within query_timeout (pg/lib/client.js). */
const QUERY_READ_TIMEOUT = 'Query read timeout';

/**
 * pg's Client, bounded (PostgresLimits): its own connect timeout (the pool's is its wait for a free
 * connection), and a connection whose query timed out on the client is dropped, never handed out again:
 * pg leaves that query active, and every later query on the connection would queue behind it.
 */
function boundedClientClass(limits: PostgresLimits): typeof PgModule.Client {
  const Base = pgModule().Client;
  return class BoundedClient extends Base {
    constructor(config?: string | PgModule.ClientConfig) {
      super({ ...(typeof config === 'string' ? { connectionString: config } : config), connectionTimeoutMillis: limits.connectTimeoutMs });
    }

    override query(...args: unknown[]): never {
      const result = (Base.prototype.query as (...a: unknown[]) => unknown).apply(this, args);
      if (result instanceof Promise) {
        return result.catch((error: unknown) => {
          if (error instanceof Error && error.message === QUERY_READ_TIMEOUT) this.abandon();
          throw error;
        }) as never;
      }
      return result as never;
    }

    /** Marks the connection ending (the pool removes it when released) and cuts its socket. */
    private abandon(): void {
      this.end().catch(() => undefined);
      (this as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
    }
  };
}

/** PostgreSQL's bigint (int8): its times in epoch ms and its counts, which pg returns as strings. */
const INT8_OID = 20;

/**
 * pg's type parsers, with bigint read as a number: every time here is epoch milliseconds and every count
 * a row count, far below 2^53, so the rows arrive as the table types say, on both dialects (better-sqlite3
 * returns numbers), and no call site converts. Per pool, not pg's global registry.
 */
function numericBigints(): PgModule.CustomTypesConfig {
  const { types } = pgModule();
  const parserOf = (oid: number, format?: 'text' | 'binary'): ((value: string) => unknown) =>
    oid === INT8_OID && format !== 'binary' ? (value) => Number(value) : (types.getTypeParser(oid, format) as (value: string) => unknown);
  return { getTypeParser: parserOf as PgModule.CustomTypesConfig['getTypeParser'] };
}

function openPostgres(url: string, options: StoreOptions): Store {
  const limits = options.postgres ?? DEFAULT_POSTGRES_LIMITS;
  const pool = new (pgModule().Pool)({
    connectionString: url,
    types: numericBigints(),
    max: options.poolSize ?? 10,
    Client: boundedClientClass(limits),
    // The wait for a free connection while every one is busy; opening one is bounded by the client's own
    // timeout. A busy pool waits this long before the webhook answers 503 (busy), and Argo CD retries.
    connectionTimeoutMillis: limits.poolWaitMs,
    idleTimeoutMillis: 30_000,
    // The server cancels a statement first (57014, a slow database); the client's read timeout, a second
    // later, catches a connection that answers nothing (half-open).
    statement_timeout: limits.queryTimeoutMs,
    query_timeout: limits.queryTimeoutMs + 1000,
    idle_in_transaction_session_timeout: limits.idleInTransactionTimeoutMs,
    keepAlive: limits.keepAliveMs > 0,
    keepAliveInitialDelayMillis: limits.keepAliveMs,
    application_name: 'gitops-rollback-webhook',
  });
  // A connection dropped by a database restart emits 'error': on the pool while idle, on the client
  // while checked out. Without a listener either one crashes the process, so both get one; the pool
  // then discards the broken client and the next query opens a new connection.
  const onError = (error: Error) => options.onConnectionError?.(error);
  pool.on('error', onError);
  pool.on('connect', (client) => client.on('error', onError));
  const db = new Kysely<Database>({ dialect: guardedDialect(new PostgresDialect({ pool })) });
  let closed = false;
  return withMigrations(db, 'postgres', {
    // Each transaction on its own pooled connection; PostgreSQL groups concurrent commits' WAL flushes itself.
    transaction: (work) => db.transaction().execute((trx) => runAsTransactionWork(() => work(trx))),
    async lockApp(trx, app) {
      // A transaction-scoped advisory lock keyed by the app's name; released at commit or rollback.
      await sql`select pg_advisory_xact_lock(hashtextextended(${`gitops-rollback:${app}`}, 0))`.execute(trx);
    },
    async changeStamp() {
      const { rows } = await sql<{ snapshot: string }>`select pg_current_snapshot()::text as snapshot`.execute(db);
      return rows[0]?.snapshot ?? '';
    },
    // Autovacuum marks the space of deleted rows for reuse on its own.
    reclaimSpace: () => Promise.resolve({ pages: 0, heldMs: 0 }),
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  });
}

/**
 * Kysely prepares every query it runs; better-sqlite3 statements can be reused, so each distinct SQL
 * text is prepared once. The texts are the queries the code builds (values are bound parameters), a
 * few dozen; the cap only guards against a query whose text varied with its input.
 */
function withStatementCache(sqlite: SQLite.Database, max = 1000): SqliteDatabase {
  const statements = new Map<string, SQLite.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(text: string) {
      let statement = statements.get(text);
      if (statement === undefined) {
        statement = sqlite.prepare(text);
        if (statements.size >= max) statements.clear();
        statements.set(text, statement);
      }
      return statement;
    },
  };
}

// Each unit of a group runs inside its own savepoint; the texts are fixed, so they are compiled once.
const SAVEPOINT = CompiledQuery.raw('savepoint unit');
const RELEASE = CompiledQuery.raw('release savepoint unit');
const ROLLBACK_TO = CompiledQuery.raw('rollback to savepoint unit');

interface Unit {
  work: (trx: Transaction<Database>) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for SQLite's one connection: transactions asked for while one commits wait, then run
 * together in a single transaction, each inside its own savepoint (one that fails rolls back alone and
 * its caller gets its error). Every caller hears only after `durable()` (an fsync of the WAL that
 * started after the commit) has finished, so nobody is told "stored" before the data is on disk. The
 * fsync runs off the event loop, and the next group runs while it is in flight. If the commit or the
 * fsync fails, every caller in the group gets that error (after a failed commit nothing of the group
 * is stored).
 */
export function groupCommit(
  db: Kysely<Database>,
  durable: () => Promise<void>,
  beforeGroup: () => Promise<void> | undefined = () => undefined,
  maxGroup = 512,
): Store['transaction'] {
  const waiting: Unit[] = [];
  let running = false;

  /**
   * Runs the group; resolves to its callers' answers once committed (not yet durable). The transaction is
   * driven by hand so that the first error that ended it (SQLITE_FULL, an I/O error, read-only: in a
   * statement or at COMMIT) is what every caller hears, never the complaint of the rollback after it
   * ("cannot rollback - no transaction is active", when SQLite already rolled back itself), which was
   * answered 500 before.
   */
  async function runGroup(group: Unit[]): Promise<Array<() => void> | undefined> {
    const outcomes: Array<() => void> = [];
    let trx: ControlledTransaction<Database>;
    try {
      trx = await db.startTransaction().execute();
    } catch (error) {
      for (const unit of group) unit.reject(error);
      return undefined;
    }
    let cause: unknown;
    try {
      for (const unit of group) {
        await trx.executeQuery(SAVEPOINT);
        try {
          const value = await runAsTransactionWork(() => unit.work(trx));
          await trx.executeQuery(RELEASE);
          outcomes.push(() => unit.resolve(value));
        } catch (error) {
          try {
            await trx.executeQuery(ROLLBACK_TO);
            await trx.executeQuery(RELEASE);
          } catch {
            // SQLite ended the whole transaction itself (a full disk, an I/O error): the unit's error is the cause.
            cause = error;
            throw error;
          }
          outcomes.push(() => unit.reject(error));
        }
      }
      await trx.commit().execute();
    } catch (error) {
      cause ??= error;
      // Releases the connection whatever it says (it fails when SQLite rolled back already).
      await trx.rollback().execute().catch(() => undefined);
      for (const unit of group) unit.reject(cause);
      return undefined;
    }
    return outcomes;
  }

  async function drain(): Promise<void> {
    try {
      while (waiting.length > 0) {
        const pause = beforeGroup();
        if (pause) await pause;
        const group = waiting.splice(0, maxGroup);
        const outcomes = await runGroup(group);
        if (outcomes === undefined) continue;
        durable().then(
          () => outcomes.forEach((settle) => settle()),
          // Committed, not confirmed on disk: kept or lost, and each caller is told exactly that.
          (error: unknown) => group.forEach((unit) => unit.reject(new UnconfirmedWriteError(error))),
        );
      }
    } catch (error) {
      // Whatever failed here, every caller still waiting hears it; none is left hanging.
      for (const unit of waiting.splice(0)) unit.reject(error);
    } finally {
      // Always: a drain that ended any other way left every later transaction waiting for ever.
      running = false;
    }
  }

  return <T>(work: (trx: Transaction<Database>) => Promise<T>) =>
    new Promise<T>((resolve, reject) => {
      waiting.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (!running) {
        running = true;
        // After the I/O callbacks already due: requests read in the same turn join this group.
        setImmediate(() => void drain());
      }
    });
}
