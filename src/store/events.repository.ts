import { type Kysely, type Transaction, sql } from 'kysely';
import type { DeliveryAttempt, EventStatus, Outcome, RollbackEvent, StoredRestorePlan } from '../domain/rollback-event';
import type { AttemptRow } from './attempts.table';
import type { DeliveryRow } from './deliveries.table';
import type { OutcomeFollowRow } from './outcome-follows.table';
import type { Dialect } from './database';
import type { EventRow } from './events.table';
import { prepared } from './prepared';
import type { Database } from './schema';

type Db = Kysely<Database> | Transaction<Database>;

// Spelled as a literal, as a database needs to see a partial index's condition to use it.
const NOT_SUPPRESSED = sql<boolean>`status <> 'suppressed'`;

// bigint columns come back as strings from some drivers; normalise at the edge.

export function toRollbackEvent(row: EventRow): RollbackEvent {
  return {
    id: row.id,
    app: row.app,
    failedRevision: row.failed_revision,
    healthyRevision: row.healthy_revision,
    target: { owner: row.target_owner, repo: row.target_repo },
    eventType: row.event_type,
    dispatchBody: row.dispatch_body,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    lastError: row.last_error,
    requestId: row.request_id,
    targetReason: row.target_reason,
    suppressionReason: row.suppression_reason,
    restorePlan: row.restore_plan ? (JSON.parse(row.restore_plan) as StoredRestorePlan) : null,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    deliveredAt: row.delivered_at,
    outcome: row.outcome,
    outcomeReason: row.outcome_reason,
    runUrl: row.run_url,
    restoreCommit: row.restore_commit,
    restoreUrl: row.restore_url,
    pullRequestUrl: row.pull_request_url,
    verifiedReportId: row.verified_report_id,
    redispatches: row.redispatches ?? 0,
  };
}

function toDeliveryAttempt(row: AttemptRow): DeliveryAttempt {
  return {
    attempt: row.attempt,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    statusCode: row.status_code,
    outcome: row.outcome,
    error: row.error,
    nextAttemptAt: row.next_attempt_at,
  };
}

export interface NewEvent {
  id: string;
  app: string;
  failedRevision: string;
  healthyRevision: string;
  target: { owner: string; repo: string };
  eventType: string;
  dispatchBody: string;
  status: 'queued' | 'dry_run' | 'suppressed';
  requestId: string | null;
  targetReason: string | null;
  suppressionReason: string | null;
  restorePlan?: StoredRestorePlan;
}

type EventValues = Pick<EventRow, 'id' | 'app' | 'failed_revision' | 'healthy_revision' | 'target_owner' | 'target_repo' | 'event_type' | 'dispatch_body'> &
  Pick<EventRow, 'next_attempt_at' | 'request_id' | 'target_reason' | 'suppression_reason' | 'restore_plan'> & { status: 'queued' | 'dry_run' | 'suppressed'; now: number };

const insertEventRow = prepared((db, { now, ...row }: EventValues) =>
  db.insertInto('events').values({ ...row, attempts: 0, last_error: null, created_at: now, updated_at: now, delivered_at: null }),
);

/** Stores what the event is, with the summary of its first delivery (see openDelivery). */
export async function insertEvent(db: Db, event: NewEvent, now: number): Promise<void> {
  await insertEventRow(db, {
    id: event.id,
    app: event.app,
    failed_revision: event.failedRevision,
    healthy_revision: event.healthyRevision,
    target_owner: event.target.owner,
    target_repo: event.target.repo,
    event_type: event.eventType,
    dispatch_body: event.dispatchBody,
    status: event.status,
    next_attempt_at: event.status === 'queued' ? now : null,
    request_id: event.requestId,
    target_reason: event.targetReason,
    suppression_reason: event.suppressionReason,
    restore_plan: event.restorePlan === undefined ? null : JSON.stringify(event.restorePlan),
    now,
  });
  // No noteApp here: an event is stored only beside its Degraded report, or after one (a repeat), and
  // insertReport notes the app; a second lookup on the accept path would find the row every time.
}

/** The identity of a rollback: one per target repository, app and failed revision. */
export interface RollbackKey {
  owner: string;
  repo: string;
  app: string;
  failedRevision: string;
}

/** The events stored for one rollback key, suppressed or not. */
function eventsOfKey(db: Db, key: RollbackKey) {
  return db
    .selectFrom('events')
    .select('id')
    .where('target_owner', '=', key.owner)
    .where('target_repo', '=', key.repo)
    .where('app', '=', key.app)
    .where('failed_revision', '=', key.failedRevision);
}

/** The rollback stored for `key` (suppressed requests do not count): a query of its id, at most one row. */
export function rollbackIdQuery(db: Db, key: RollbackKey) {
  return eventsOfKey(db, key).where(NOT_SUPPRESSED).limit(1);
}

const rollbackOfKey = prepared((db, key: { owner: string; repo: string; app: string; failedRevision: string }) => rollbackIdQuery(db, key));

/** The id of the rollback already stored for `key` (suppressed requests do not count), if any. */
export async function findRollbackId(db: Db, key: RollbackKey): Promise<string | undefined> {
  const [row] = await rollbackOfKey(db, { owner: key.owner, repo: key.repo, app: key.app, failedRevision: key.failedRevision });
  return row?.id;
}

/** The newest suppressed event for `key`, if any: a repeat of the same refusal is answered with it. */
export async function findSuppressedId(db: Db, key: RollbackKey): Promise<string | undefined> {
  return (await eventsOfKey(db, key).where('status', '=', 'suppressed').orderBy('id', 'desc').executeTakeFirst())?.id;
}

/**
 * Rollbacks of `app` (any target, not suppressed) created at or after `since`: the loop guard's count, as
 * a query of one row, column `n`. One rollback may be several events (one per repository), so failed
 * revisions are counted.
 */
export function rollbacksSinceQuery(db: Db, app: string, since: number) {
  return db
    .selectFrom('events')
    .select((eb) => eb.fn.count<number>('failed_revision').distinct().as('n'))
    .where('app', '=', app)
    .where(NOT_SUPPRESSED)
    .where('created_at', '>=', since);
}

/** The events with these ids (in no particular order). */
export async function findEventsByIds(db: Db, ids: readonly string[]): Promise<RollbackEvent[]> {
  if (ids.length === 0) return [];
  const rows = await db.selectFrom('events').selectAll().where('id', 'in', [...ids]).execute();
  return rows.map(toRollbackEvent);
}

/** The repositories ("owner/repo") events created at or after `since` went to. */
export async function listRecentRepositories(db: Db, since: number): Promise<string[]> {
  const rows = await db.selectFrom('events').select(['target_owner', 'target_repo']).distinct().where('created_at', '>=', since).execute();
  return rows.map((r) => `${r.target_owner}/${r.target_repo}`);
}

/** True when `error` is a unique-constraint violation (SQLite or PostgreSQL). */
export function isUniqueViolation(error: unknown): boolean {
  if (typeof error !== 'object' || error === null || !('code' in error)) return false;
  return error.code === 'SQLITE_CONSTRAINT_UNIQUE' || error.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || error.code === '23505';
}

/**
 * An event with its delivery attempts, and the id of its current delivery (the dispatch id its body is
 * sent with: withDispatchId), undefined for a refused event, which has no delivery.
 */
export async function findEvent(db: Db, id: string): Promise<{ event: RollbackEvent; attempts: DeliveryAttempt[]; dispatchId: string | undefined } | undefined> {
  const row = await db.selectFrom('events').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) return undefined;
  const attempts = await db.selectFrom('attempts').selectAll().where('event_id', '=', id).orderBy('attempt').execute();
  const current = await db.selectFrom('deliveries').select('id').where('event_id', '=', id).orderBy('seq', 'desc').limit(1).executeTakeFirst();
  return { event: toRollbackEvent(row), attempts: attempts.map(toDeliveryAttempt), dispatchId: current?.id };
}

/** Where a page of events ends: the next page starts after this event (newest first: older ones). */
export interface EventCursor {
  createdAt: number;
  id: string;
}

/**
 * Events newest first (time, then id), filtered; `before` pages by cursor (keyset), so a page deep in the
 * history reads what the first does.
 */
export async function listEvents(db: Db, filter: { app?: string; status?: EventStatus; outcome?: Outcome; limit: number; before?: EventCursor }): Promise<RollbackEvent[]> {
  let query = db.selectFrom('events').selectAll();
  if (filter.app !== undefined) query = query.where('app', '=', filter.app);
  if (filter.status !== undefined) query = query.where('status', '=', filter.status);
  if (filter.outcome !== undefined) query = query.where('outcome', '=', filter.outcome);
  const before = filter.before;
  if (before !== undefined) {
    // A row value (time, id): a range scan of the time index from the cursor on both engines.
    query = query.where((eb) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(before.createdAt, before.id)));
  }
  const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
  return rows.map(toRollbackEvent);
}

/**
 * The newest failed events (the overview's banner links them), read from the partial index
 * events_unfinished_idx: its condition is repeated with literal values so both engines can use it.
 */
export async function listNewestFailed(db: Db, limit: number): Promise<RollbackEvent[]> {
  const rows = await db
    .selectFrom('events')
    .selectAll()
    .where(sql<boolean>`status in ('queued', 'retrying', 'delivering', 'failed')`)
    .where('status', '=', 'failed')
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map(toRollbackEvent);
}

/** When the event `id` was created, if the store has it. */
export async function findEventTime(db: Db, id: string): Promise<number | undefined> {
  const row = await db.selectFrom('events').select('created_at').where('id', '=', id).executeTakeFirst();
  return row === undefined ? undefined : row.created_at;
}

/**
 * Serialises the writers of one event's work on PostgreSQL until `trx` ends (a row lock on the event), so
 * summaries are written in the order their work was. SQLite runs one transaction at a time.
 */
export async function lockEvent(trx: Db, dialect: Dialect, eventId: string): Promise<void> {
  if (dialect === 'postgres') await sql`select id from events where id = ${eventId} for update`.execute(trx);
}

/** What the summary needs of a delivery row. */
export type DeliverySummary = Pick<DeliveryRow, 'event_id' | 'state' | 'attempts' | 'due_at' | 'lease_owner' | 'last_error' | 'finished_at'>;
/** What the summary needs of a follow-up row; `outcome: null` is "not followed yet" (a replay starts afresh). */
export type FollowSummary = Omit<Pick<OutcomeFollowRow, 'event_id' | 'outcome' | 'reason' | 'run_url' | 'restore_commit' | 'restore_url' | 'pull_request_url' | 'verified_report_id' | 'redispatches'>, 'outcome' | 'reason'> & {
  outcome: OutcomeFollowRow['outcome'] | null;
  reason: string | null;
};

/** The summary of an event whose new delivery is not followed yet: no outcome, no run, fresh counts. */
export function notFollowedYet(eventId: string): FollowSummary {
  return { event_id: eventId, outcome: null, reason: null, run_url: null, restore_commit: null, restore_url: null, pull_request_url: null, verified_report_id: null, redispatches: 0 };
}

/**
 * Writes the event's delivery summary (status, attempts, next attempt, last error, delivered at) from
 * its current delivery, the row the caller just wrote. With summarizeFollow, the only writers of the
 * summary: call it in the transaction that changed the delivery, after that row (work row, then the
 * event's lock: one order for every writer).
 */
export async function summarizeDelivery(trx: Db, dialect: Dialect, delivery: DeliverySummary, now: number): Promise<void> {
  await lockEvent(trx, dialect, delivery.event_id);
  const open = delivery.state === 'queued' || delivery.state === 'retrying';
  const status: EventStatus = open && delivery.lease_owner !== null ? 'delivering' : delivery.state;
  await trx
    .updateTable('events')
    .set({
      status,
      attempts: delivery.attempts,
      next_attempt_at: open ? delivery.due_at : null,
      last_error: delivery.last_error,
      delivered_at: delivery.state === 'delivered' ? delivery.finished_at : null,
      updated_at: now,
    })
    .where('id', '=', delivery.event_id)
    .execute();
}

/** Writes the event's outcome summary from its current follow-up, the row the caller just wrote. */
export async function summarizeFollow(trx: Db, dialect: Dialect, follow: FollowSummary, now: number): Promise<void> {
  await lockEvent(trx, dialect, follow.event_id);
  await trx
    .updateTable('events')
    .set({
      outcome: follow.outcome,
      outcome_reason: follow.reason,
      run_url: follow.run_url,
      restore_commit: follow.restore_commit,
      restore_url: follow.restore_url,
      pull_request_url: follow.pull_request_url,
      verified_report_id: follow.verified_report_id,
      redispatches: follow.redispatches,
      updated_at: now,
    })
    .where('id', '=', follow.event_id)
    .execute();
}
