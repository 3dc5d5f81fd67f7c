import { sql, type Kysely, type Transaction } from 'kysely';
import { FINAL_OUTCOMES } from '../domain/rollback-event';
import type { Store } from './database';
import type { Database } from './schema';

type Db = Kysely<Database> | Transaction<Database>;

/** The tables retention trims, in the order one run walks them. */
export const RETENTION_TABLES = ['events', 'health_reports', 'notifications', 'admin_actions'] as const;
export type RetentionTable = (typeof RETENTION_TABLES)[number];

/** Where a walk through one table stands: the last row looked at (time, then id). */
export interface RetentionCursor {
  at: number;
  id: string;
}

export interface RetentionBatch {
  /** Rows deleted, by table (an event's outcome history and notifications count under their own names). */
  deleted: Partial<Record<string, number>>;
  /** Rows looked at. */
  scanned: number;
  /** The cursor after this batch; undefined when the table has no older row left to look at. */
  next: RetentionCursor | undefined;
  /** How long the batch's work held the transaction (on SQLite, the write lock), without the wait for it. */
  heldMs: number;
}

/** Statuses after which nothing more happens to an event (a replay starts it again). */
const FINISHED_STATUSES = ['delivered', 'failed', 'dry_run', 'suppressed'] as const;
function isFinished(status: string, outcome: string | null): boolean {
  return (FINISHED_STATUSES as readonly string[]).includes(status) && (outcome === null || (FINAL_OUTCOMES as readonly string[]).includes(outcome));
}

/** The newest healthy revisions of an app the policy keeps whatever their age (its ledger). */
export const KEEP_HEALTHY_REVISIONS = 10;

type TimeColumn = 'created_at' | 'reported_at' | 'at';

/**
 * Up to `limit` rows of `table` older than `cutoff`, after `cursor`, oldest first: their id, time
 * (`at`) and the `extra` columns the caller decides on.
 */
async function oldRows<Extra>(trx: Db, table: RetentionTable, column: TimeColumn, extra: readonly string[], cutoff: number, cursor: RetentionCursor | undefined, limit: number) {
  const time = sql.ref(column);
  const columns = sql.join([sql`id`, sql`${time} as at`, ...extra.map((c) => sql.ref(c))]);
  // A row value: both engines range-scan the time index from the cursor (the same condition written with
  // OR made SQLite sort every older row on each batch: 319 ms a batch at 1,000,000 events, 1.8 ms so).
  const later = cursor === undefined ? sql`` : sql`and (${time}, id) > (${cursor.at}, ${cursor.id})`;
  const { rows } = await sql<Extra & { id: string; at: number }>`select ${columns} from ${sql.table(table)} where ${time} < ${cutoff} ${later} order by ${time}, id limit ${limit}`.execute(trx);
  return rows;
}

/** The batch's answer: what was deleted, and where the next batch starts (none when this one was short). */
function batch(rows: ReadonlyArray<{ id: string; at: number }>, limit: number, deleted: Partial<Record<string, number>>): Omit<RetentionBatch, 'heldMs'> {
  const last = rows[rows.length - 1];
  return { deleted, scanned: rows.length, next: rows.length < limit || !last ? undefined : { at: last.at, id: last.id } };
}

async function deleteIds(trx: Db, table: 'health_reports' | 'notifications' | 'admin_actions', ids: string[]): Promise<number> {
  return ids.length === 0 ? 0 : Number((await trx.deleteFrom(table).where('id', 'in', ids).executeTakeFirst()).numDeletedRows);
}

async function trimEvents(trx: Db, cutoff: number, cursor: RetentionCursor | undefined, limit: number): Promise<Omit<RetentionBatch, 'heldMs'>> {
  const rows = await oldRows<{ status: string; outcome: string | null }>(trx, 'events', 'created_at', ['status', 'outcome'], cutoff, cursor, limit);
  const candidates = rows.filter((r) => isFinished(r.status, r.outcome)).map((r) => r.id);
  const deleted: Record<string, number> = {};
  if (candidates.length > 0) {
    // The condition again in the delete: a replay that reopened one since the read keeps it (PostgreSQL
    // re-checks a row it waited for).
    const gone = await trx
      .deleteFrom('events')
      .where('id', 'in', candidates)
      .where('status', 'in', FINISHED_STATUSES)
      .where((eb) => eb.or([eb('outcome', 'is', null), eb('outcome', 'in', FINAL_OUTCOMES)]))
      .returning('id')
      .execute();
    // Attempts, deliveries and outcome follow-ups went with their event (on delete cascade).
    deleted.events = gone.length;
    const ids = gone.map((r) => r.id);
    if (ids.length > 0) {
      const count = async (query: { executeTakeFirst(): Promise<{ numDeletedRows: bigint }> }) => Number((await query.executeTakeFirst()).numDeletedRows);
      deleted.outcome_history = await count(trx.deleteFrom('outcome_history').where('event_id', 'in', ids));
      deleted.notifications = await count(trx.deleteFrom('notifications').where('event_id', 'in', ids).where('status', '!=', 'pending'));
      deleted.admin_actions = await count(trx.deleteFrom('admin_actions').where('event_id', 'in', ids));
    }
  }
  return batch(rows, limit, deleted);
}

async function trimHealthReports(trx: Db, cutoff: number, cursor: RetentionCursor | undefined, limit: number): Promise<Omit<RetentionBatch, 'heldMs'>> {
  const rows = await oldRows<{ app: string; revision: string }>(trx, 'health_reports', 'reported_at', ['app', 'revision'], cutoff, cursor, limit);
  // The reports of each app's newest healthy revisions stay, whatever their age. Only a revision that was
  // ever healthy can be one of them: those are looked up at once, then the ledger of their apps alone.
  const kept = new Set<string>();
  const everHealthy =
    rows.length === 0
      ? []
      : await trx
          .selectFrom('revision_states')
          .select(['app', 'revision'])
          .where('app', 'in', [...new Set(rows.map((r) => r.app))])
          .where('revision', 'in', [...new Set(rows.map((r) => r.revision))])
          .where('newest_healthy_at', 'is not', null)
          .execute();
  const pairs = new Set(everHealthy.map((r) => `${r.app}\n${r.revision}`));
  for (const app of new Set(rows.filter((r) => pairs.has(`${r.app}\n${r.revision}`)).map((r) => r.app))) {
    const ledger = await trx
      .selectFrom('revision_states')
      .select('revision')
      .where('app', '=', app)
      .where('newest_healthy_at', 'is not', null)
      .orderBy('newest_healthy_at', 'desc')
      .limit(KEEP_HEALTHY_REVISIONS)
      .execute();
    for (const { revision } of ledger) kept.add(`${app}\n${revision}`);
  }
  const ids = rows.filter((r) => !kept.has(`${r.app}\n${r.revision}`)).map((r) => r.id);
  return batch(rows, limit, { health_reports: await deleteIds(trx, 'health_reports', ids) });
}

async function trimNotifications(trx: Db, cutoff: number, cursor: RetentionCursor | undefined, limit: number): Promise<Omit<RetentionBatch, 'heldMs'>> {
  const rows = await oldRows<{ status: string }>(trx, 'notifications', 'created_at', ['status'], cutoff, cursor, limit);
  // A message still waiting for its receiver stays.
  const ids = rows.filter((r) => r.status !== 'pending').map((r) => r.id);
  return batch(rows, limit, { notifications: await deleteIds(trx, 'notifications', ids) });
}

async function trimAdminActions(trx: Db, cutoff: number, cursor: RetentionCursor | undefined, limit: number): Promise<Omit<RetentionBatch, 'heldMs'>> {
  const rows = await oldRows(trx, 'admin_actions', 'at', [], cutoff, cursor, limit);
  return batch(rows, limit, { admin_actions: await deleteIds(trx, 'admin_actions', rows.map((r) => r.id)) });
}

const TRIM: Record<RetentionTable, (trx: Db, cutoff: number, cursor: RetentionCursor | undefined, limit: number) => Promise<Omit<RetentionBatch, 'heldMs'>>> = {
  events: trimEvents,
  health_reports: trimHealthReports,
  notifications: trimNotifications,
  admin_actions: trimAdminActions,
};

/**
 * One batch of one table, in one transaction: looks at up to `limit` rows older than `cutoff` after
 * `cursor` (time order) and deletes those that are finished. Per-app policy state (revision_states,
 * app_pauses) is never touched.
 */
export function trimBatch(store: Store, table: RetentionTable, cutoff: number, cursor: RetentionCursor | undefined, limit: number): Promise<RetentionBatch> {
  return store.transaction(async (trx) => {
    const started = performance.now();
    const result = await TRIM[table](trx, cutoff, cursor, limit);
    return { ...result, heldMs: performance.now() - started };
  });
}
