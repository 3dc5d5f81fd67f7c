import { sql, type Kysely, type RawBuilder, type Selectable, type Transaction } from 'kysely';
import type { Dialect } from './database';
import type { Database } from './schema';

/**
 * The one way work is leased, for every table of work: deliveries, outcome follow-ups, the notification
 * outbox and the token's dispatch slot. Each has the columns of LeasedWorkColumns:
 *
 * - `due_at`: when the item is next due, on the service's clock (null: nothing left to do), which on
 *   PostgreSQL is the database's (DatabaseClock), so every replica reads the same due time;
 * - `lease_owner`, `lease_expires_at`: who holds it, and until when on the **database's** clock, so
 *   replicas whose clocks disagree never take each other's live lease;
 * - `version`: moved on by every claim, renewal, completion and release.
 *
 * A claimer gets the item with its version; it may renew the lease and must complete (or give back) with
 * that version. When the version moved on, someone else took the item: renew and complete throw
 * LeaseLostError and write nothing, so a slow worker can never overwrite the new holder's work.
 */

type Db = Kysely<Database> | Transaction<Database>;

export type WorkTable = 'deliveries' | 'outcome_follows' | 'notifications' | 'dispatch_slots';
export type WorkRow<T extends WorkTable> = Selectable<Database[T]>;

const KEY: Record<WorkTable, string> = { deliveries: 'id', outcome_follows: 'id', notifications: 'id', dispatch_slots: 'token_key' };

/** What a holder must show to renew, complete or give back an item. */
export interface Lease<T extends WorkTable = WorkTable> {
  table: T;
  key: string;
  owner: string;
  version: number;
}

/** The item was taken over (its lease expired and another worker claimed it) or changed by someone else. */
export class LeaseLostError extends Error {
  constructor(readonly lease: Lease) {
    super(`lease on ${lease.table} ${lease.key} was lost (another worker holds it now); nothing written`);
    this.name = 'LeaseLostError';
  }
}

/** The database's clock in epoch milliseconds: the one clock every replica's leases are measured on. */
export function databaseNow(dialect: Dialect): RawBuilder<number> {
  return dialect === 'postgres' ? sql<number>`(extract(epoch from clock_timestamp()) * 1000)::bigint` : sql<number>`cast(unixepoch('subsec') * 1000 as integer)`;
}

/** The database's clock now, read once (DatabaseClock measures a replica's offset with it). */
export async function readDatabaseNow(db: Db, dialect: Dialect): Promise<number> {
  const { rows } = await sql<{ now: number }>`select ${databaseNow(dialect)} as now`.execute(db);
  return rows[0]!.now;
}

export interface ClaimOptions {
  owner: string;
  leaseMs: number;
  /** The service's clock (the database's on PostgreSQL): items with due_at <= now are due. */
  now: number;
  limit?: number;
  /** More conditions on the candidate rows (alias: the table's own name), e.g. one key, or "first of its app". */
  where?: RawBuilder<boolean>;
}

/**
 * Leases up to `limit` items that are due and not held by a live lease (a holder that died is replaced
 * once its lease expired), oldest due first. PostgreSQL: FOR UPDATE SKIP LOCKED, so replicas claiming at
 * the same moment take different items instead of waiting for, or double-claiming, each other's.
 */
export async function claimWork<T extends WorkTable>(db: Db, dialect: Dialect, table: T, options: ClaimOptions): Promise<Array<WorkRow<T>>> {
  const key = sql.ref(KEY[table]);
  const name = sql.table(table);
  const dbNow = databaseNow(dialect);
  const free = sql`(lease_owner is null or lease_expires_at <= ${dbNow})`;
  const extra = options.where ? sql`and ${options.where}` : sql``;
  const lock = dialect === 'postgres' ? sql`for update skip locked` : sql``;
  const result = await sql<WorkRow<T>>`
    update ${name} set lease_owner = ${options.owner}, lease_expires_at = ${dbNow} + ${options.leaseMs}, version = version + 1
    where ${key} in (
      select ${key} from ${name}
      where due_at is not null and due_at <= ${options.now} and ${free} ${extra}
      order by due_at limit ${options.limit ?? 1} ${lock}
    ) and ${free}
    returning *`.execute(db);
  return result.rows;
}

/** The lease a claimed row carries. */
export function leaseOf<T extends WorkTable>(table: T, row: WorkRow<T>): Lease<T> {
  const r = row as unknown as Record<string, unknown> & { version: number };
  return { table, key: String(r[KEY[table]]), owner: String(r.lease_owner), version: r.version };
}

/** Extends a live lease by `leaseMs` from the database's now. Throws LeaseLostError when it was taken over. */
export async function renewLease<T extends WorkTable>(db: Db, dialect: Dialect, lease: Lease<T>, leaseMs: number): Promise<Lease<T>> {
  const result = await sql<{ version: number }>`
    update ${sql.table(lease.table)} set lease_expires_at = ${databaseNow(dialect)} + ${leaseMs}, version = version + 1
    where ${sql.ref(KEY[lease.table])} = ${lease.key} and lease_owner = ${lease.owner} and version = ${lease.version}
    returning version`.execute(db);
  const row = result.rows[0];
  if (!row) throw new LeaseLostError(lease);
  return { ...lease, version: row.version };
}

/**
 * Completes a held item in the caller's transaction: writes `set` (its next due time, or null when no work
 * is left, and the table's own columns), drops the lease and moves the version on, only while the lease
 * is still this holder's at the version it saw, and returns the row as written. Throws LeaseLostError
 * otherwise, so the transaction, and everything the news it carried would have written, rolls back. A
 * value may be an SQL expression (`sql\`…\``) over the row's own columns.
 */
export async function completeWork<T extends WorkTable>(trx: Db, lease: Lease<T>, set: Record<string, unknown>): Promise<WorkRow<T>> {
  const assignments = Object.entries(set).map(([column, value]) => sql`${sql.ref(column)} = ${value}`);
  const result = await sql<WorkRow<T>>`
    update ${sql.table(lease.table)} set ${sql.join([...assignments, sql`lease_owner = null`, sql`lease_expires_at = null`, sql`version = version + 1`])}
    where ${sql.ref(KEY[lease.table])} = ${lease.key} and lease_owner = ${lease.owner} and version = ${lease.version}
    returning *`.execute(trx);
  const row = result.rows[0];
  if (!row) throw new LeaseLostError(lease);
  return row;
}

/** Gives back every lease `owner` holds in `table` (clean shutdown): those items are due again at once. */
export async function releaseLeases(db: Db, table: WorkTable, owner: string): Promise<number> {
  const result = await sql`update ${sql.table(table)} set lease_owner = null, lease_expires_at = null, version = version + 1 where lease_owner = ${owner}`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

/**
 * When the next item of `table` is due on the service's clock: the earliest due time among the free
 * items, or when the first live lease runs out (converted from the database's clock). Undefined when no
 * work is left. `where` is the claim's own extra condition, so an item the claim would skip is not
 * reported as due.
 */
export async function nextDueAt(db: Db, dialect: Dialect, table: WorkTable, now: number, where?: RawBuilder<boolean>): Promise<number | undefined> {
  const name = sql.table(table);
  const extra = where ? sql`and ${where}` : sql``;
  // The first free entry of the due index: order by … limit 1 stops there, where min() would scan the queue.
  const due = await sql<{ at: number | null }>`select due_at as at from ${name} where due_at is not null and lease_owner is null ${extra} order by due_at limit 1`.execute(db);
  // Read from the partial index of leased items (a handful), whatever the length of the queue.
  const lease = await sql<{ wait: number | null }>`
    select min(lease_expires_at) - ${databaseNow(dialect)} as wait from ${name} where lease_owner is not null and due_at is not null`.execute(db);
  const candidates: number[] = [];
  const at = due.rows[0]?.at;
  if (at !== null && at !== undefined) candidates.push(at);
  const wait = lease.rows[0]?.wait;
  if (wait !== null && wait !== undefined) candidates.push(now + Math.max(0, wait));
  return candidates.length > 0 ? Math.min(...candidates) : undefined;
}
