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
}

/** Statuses after which nothing more happens to an event (a replay starts it again). */
const FINISHED_STATUSES = ['delivered', 'failed', 'dry_run', 'suppressed'] as const;
function isFinished(status: string, outcome: string | null): boolean {
  return (FINISHED_STATUSES as readonly string[]).includes(status) && (outcome === null || (FINAL_OUTCOMES as readonly string[]).includes(outcome));
}

/** The newest healthy revisions of an app the policy keeps whatever their age (its ledger). */
export const KEEP_HEALTHY_REVISIONS = 10;

const after = (column: 'created_at' | 'reported_at' | 'at', cursor: RetentionCursor | undefined) =>
  cursor === undefined ? sql<boolean>`1 = 1` : sql<boolean>`(${sql.ref(column)} > ${cursor.at} or (${sql.ref(column)} = ${cursor.at} and id > ${cursor.id}))`;

async function trimEvents(trx: Db, cutoff: number, cursor: RetentionCursor | undefined, limit: number): Promise<RetentionBatch> {
  const rows = await trx
    .selectFrom('events')
    .select(['id', 'created_at', 'status', 'outcome'])
    .where('created_at', '<', cutoff)
    .where(after('created_at', cursor))
    .orderBy('created_at')
    .orderBy('id')
    .limit(limit)
    .execute();
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
  const last = rows[rows.length - 1];
  return { deleted, scanned: rows.length, next: rows.length < limit || !last ? undefined : { at: Number(last.created_at), id: last.id } };
}

async function trimHealthReports(trx: Db, cutoff: number, cursor: RetentionCursor | undefined, limit: number): Promise<RetentionBatch> {
  const rows = await trx
    .selectFrom('health_reports')
    .select(['id', 'app', 'revision', 'reported_at'])
    .where('reported_at', '<', cutoff)
    .where(after('reported_at', cursor))
    .orderBy('reported_at')
    .orderBy('id')
    .limit(limit)
    .execute();
  // The reports of each app's newest healthy revisions stay, whatever their age.
  const kept = new Set<string>();
  for (const app of new Set(rows.map((r) => r.app))) {
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
  const deleted = ids.length === 0 ? 0 : Number((await trx.deleteFrom('health_reports').where('id', 'in', ids).executeTakeFirst()).numDeletedRows);
  const last = rows[rows.length - 1];
  return { deleted: { health_reports: deleted }, scanned: rows.length, next: rows.length < limit || !last ? undefined : { at: Number(last.reported_at), id: last.id } };
}

async function trimNotifications(trx: Db, cutoff: number, cursor: RetentionCursor | undefined, limit: number): Promise<RetentionBatch> {
  const rows = await trx
    .selectFrom('notifications')
    .select(['id', 'created_at', 'status'])
    .where('created_at', '<', cutoff)
    .where(after('created_at', cursor))
    .orderBy('created_at')
    .orderBy('id')
    .limit(limit)
    .execute();
  // A message still waiting for its receiver stays.
  const ids = rows.filter((r) => r.status !== 'pending').map((r) => r.id);
  const deleted = ids.length === 0 ? 0 : Number((await trx.deleteFrom('notifications').where('id', 'in', ids).executeTakeFirst()).numDeletedRows);
  const last = rows[rows.length - 1];
  return { deleted: { notifications: deleted }, scanned: rows.length, next: rows.length < limit || !last ? undefined : { at: Number(last.created_at), id: last.id } };
}

async function trimAdminActions(trx: Db, cutoff: number, cursor: RetentionCursor | undefined, limit: number): Promise<RetentionBatch> {
  const rows = await trx.selectFrom('admin_actions').select(['id', 'at']).where('at', '<', cutoff).where(after('at', cursor)).orderBy('at').orderBy('id').limit(limit).execute();
  const ids = rows.map((r) => r.id);
  const deleted = ids.length === 0 ? 0 : Number((await trx.deleteFrom('admin_actions').where('id', 'in', ids).executeTakeFirst()).numDeletedRows);
  const last = rows[rows.length - 1];
  return { deleted: { admin_actions: deleted }, scanned: rows.length, next: rows.length < limit || !last ? undefined : { at: Number(last.at), id: last.id } };
}

const TRIM: Record<RetentionTable, (trx: Db, cutoff: number, cursor: RetentionCursor | undefined, limit: number) => Promise<RetentionBatch>> = {
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
  return store.transaction((trx) => TRIM[table](trx, cutoff, cursor, limit));
}
