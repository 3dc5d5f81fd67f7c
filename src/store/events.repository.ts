import { type Kysely, type Transaction, sql } from 'kysely';
import type { DeliveryAttempt, RollbackEvent } from '../domain/rollback-event';
import type { Dialect } from './database';
import type { AttemptRow, Database, EventRow, EventStatus, Outcome } from './events.table';

type Db = Kysely<Database> | Transaction<Database>;

// The conditions of the partial indexes (migration 2026-11-30T09-00), as literals: a database uses a
// partial index only when the query states its condition with the same constant values.
const PENDING = sql<boolean>`status in ('queued', 'retrying')`;
const NOT_SUPPRESSED = sql<boolean>`status <> 'suppressed'`;
const DELIVERING = sql<boolean>`status = 'delivering'`;

// bigint columns come back as strings from some drivers; normalise at the edge.
const toMs = (v: number | string | null): number | null => (v === null ? null : Number(v));

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
    attempts: Number(row.attempts),
    transientFailures: Number(row.transient_failures),
    nextAttemptAt: toMs(row.next_attempt_at),
    leaseOwner: row.lease_owner,
    leaseExpiresAt: toMs(row.lease_expires_at),
    lastError: row.last_error,
    requestId: row.request_id,
    targetReason: row.target_reason,
    suppressionReason: row.suppression_reason,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    deliveredAt: toMs(row.delivered_at),
    outcome: row.outcome,
    outcomeReason: row.outcome_reason,
    runUrl: row.run_url,
    restoreCommit: row.restore_commit,
    restoreUrl: row.restore_url,
    pullRequestUrl: row.pull_request_url,
    verifiedReportId: row.verified_report_id,
    redispatches: Number(row.redispatches ?? 0),
  };
}

function toDeliveryAttempt(row: AttemptRow): DeliveryAttempt {
  return {
    attempt: Number(row.attempt),
    startedAt: Number(row.started_at),
    finishedAt: Number(row.finished_at),
    statusCode: row.status_code === null ? null : Number(row.status_code),
    outcome: row.outcome,
    error: row.error,
    nextAttemptAt: toMs(row.next_attempt_at),
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
}

export async function insertEvent(db: Db, event: NewEvent, now: number): Promise<void> {
  await db
    .insertInto('events')
    .values({
      id: event.id,
      app: event.app,
      failed_revision: event.failedRevision,
      healthy_revision: event.healthyRevision,
      target_owner: event.target.owner,
      target_repo: event.target.repo,
      event_type: event.eventType,
      dispatch_body: event.dispatchBody,
      status: event.status,
      attempts: 0,
      transient_failures: 0,
      next_attempt_at: event.status === 'queued' ? now : null,
      lease_owner: null,
      lease_expires_at: null,
      last_error: null,
      request_id: event.requestId,
      target_reason: event.targetReason,
      suppression_reason: event.suppressionReason,
      created_at: now,
      updated_at: now,
      delivered_at: null,
    })
    .execute();
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

/** The id of the rollback already stored for `key` (suppressed requests do not count), if any. */
export async function findRollbackId(db: Db, key: RollbackKey): Promise<string | undefined> {
  return (await eventsOfKey(db, key).where(NOT_SUPPRESSED).executeTakeFirst())?.id;
}

/** The newest suppressed event for `key`, if any: a repeat of the same refusal is answered with it. */
export async function findSuppressedId(db: Db, key: RollbackKey): Promise<string | undefined> {
  return (await eventsOfKey(db, key).where('status', '=', 'suppressed').orderBy('id', 'desc').executeTakeFirst())?.id;
}

/** Rollbacks of `app` (any target, not suppressed) created at or after `since`: the loop guard's count. */
export async function countRollbacksSince(db: Db, app: string, since: number): Promise<number> {
  const row = await db
    .selectFrom('events')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('app', '=', app)
    .where(NOT_SUPPRESSED)
    .where('created_at', '>=', since)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** True when `error` is a unique-constraint violation (SQLite or PostgreSQL). */
export function isUniqueViolation(error: unknown): boolean {
  if (typeof error !== 'object' || error === null || !('code' in error)) return false;
  return error.code === 'SQLITE_CONSTRAINT_UNIQUE' || error.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || error.code === '23505';
}

export async function findEvent(db: Db, id: string): Promise<{ event: RollbackEvent; attempts: DeliveryAttempt[] } | undefined> {
  const row = await db.selectFrom('events').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) return undefined;
  const attempts = await db.selectFrom('attempts').selectAll().where('event_id', '=', id).orderBy('attempt').execute();
  return { event: toRollbackEvent(row), attempts: attempts.map(toDeliveryAttempt) };
}

export async function listEvents(db: Db, filter: { app?: string; status?: EventStatus; outcome?: Outcome; limit: number; offset?: number }): Promise<RollbackEvent[]> {
  let query = db.selectFrom('events').selectAll();
  if (filter.app !== undefined) query = query.where('app', '=', filter.app);
  if (filter.status !== undefined) query = query.where('status', '=', filter.status);
  if (filter.outcome !== undefined) query = query.where('outcome', '=', filter.outcome);
  const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit).offset(filter.offset ?? 0).execute();
  return rows.map(toRollbackEvent);
}

/**
 * Takes up to `limit` events whose lease has expired (a worker died mid-delivery) or that are due
 * (queued or retrying with next_attempt_at <= now, oldest first), and leases them to `owner`. On
 * PostgreSQL the candidate rows are locked with FOR UPDATE SKIP LOCKED, so replicas claiming at the
 * same moment take different events instead of waiting for, or double-claiming, each other's. Two
 * statements rather than one with OR: each reads its own index, so a claim costs the same with a
 * hundred thousand delivered events as with none.
 */
export async function claimDue(
  db: Db,
  dialect: Dialect,
  now: number,
  owner: string,
  leaseMs: number,
  limit: number,
): Promise<RollbackEvent[]> {
  const lease = { status: 'delivering' as const, lease_owner: owner, lease_expires_at: now + leaseMs, updated_at: now };
  const lock = <Q extends { forUpdate(): { skipLocked(): Q } }>(query: Q): Q => (dialect === 'postgres' ? query.forUpdate().skipLocked() : query);
  const expired = await db
    .updateTable('events')
    .set(lease)
    .where('id', 'in', (eb) =>
      lock(eb.selectFrom('events').select('id').where(DELIVERING).where('lease_expires_at', '<=', now).orderBy('lease_expires_at').limit(limit)),
    )
    .returningAll()
    .execute();
  if (expired.length >= limit) return expired.map(toRollbackEvent);
  const due = await db
    .updateTable('events')
    .set(lease)
    .where('id', 'in', (eb) =>
      lock(eb.selectFrom('events').select('id').where(PENDING).where('next_attempt_at', '<=', now).orderBy('next_attempt_at').orderBy('created_at').limit(limit - expired.length)),
    )
    .returningAll()
    .execute();
  return [...expired, ...due].map(toRollbackEvent);
}

/** When the next event becomes due (or a lease expires), or undefined when nothing is pending. */
export async function nextDueAt(db: Db): Promise<number | undefined> {
  // The first entry of each index: the pending queue in order, the leases of the few in delivery.
  const due = await db.selectFrom('events').select('next_attempt_at as at').where(PENDING).orderBy('next_attempt_at').limit(1).executeTakeFirst();
  const lease = await db
    .selectFrom('events')
    .select((eb) => eb.fn.min('lease_expires_at').as('at'))
    .where(DELIVERING)
    .executeTakeFirst();
  const candidates = [due?.at, lease?.at].filter((v) => v !== null && v !== undefined).map(Number);
  return candidates.length > 0 ? Math.min(...candidates) : undefined;
}

export interface AttemptResult {
  eventId: string;
  owner: string;
  attempt: DeliveryAttempt;
  status: 'delivered' | 'retrying' | 'failed';
  transientFailures: number;
  lastError: string | null;
}

/**
 * Records one delivery attempt and the event's new state, but only while `owner` still holds the
 * lease: a worker whose lease expired and was taken over must not overwrite the new owner. Run it in a
 * transaction (the caller's) so the attempt and the state change land together. Returns false when
 * the lease was lost.
 */
export async function recordAttempt(trx: Transaction<Database>, result: AttemptResult): Promise<boolean> {
  const { attempt } = result;
  const updated = await trx
    .updateTable('events')
    .set({
      status: result.status,
      attempts: attempt.attempt,
      transient_failures: result.transientFailures,
      next_attempt_at: result.status === 'retrying' ? attempt.nextAttemptAt : null,
      lease_owner: null,
      lease_expires_at: null,
      last_error: result.lastError,
      updated_at: attempt.finishedAt,
      delivered_at: result.status === 'delivered' ? attempt.finishedAt : null,
    })
    .where('id', '=', result.eventId)
    .where('lease_owner', '=', result.owner)
    .where('status', '=', 'delivering')
    .executeTakeFirst();
  if (Number(updated.numUpdatedRows) !== 1) return false;
  await trx
    .insertInto('attempts')
    .values({
      event_id: result.eventId,
      attempt: attempt.attempt,
      started_at: attempt.startedAt,
      finished_at: attempt.finishedAt,
      status_code: attempt.statusCode,
      outcome: attempt.outcome,
      error: attempt.error,
      next_attempt_at: attempt.nextAttemptAt,
    })
    .execute();
  return true;
}

/** Turns an event this worker holds into dry_run without sending it (its app is in dry run). */
export async function markDryRun(trx: Transaction<Database>, id: string, owner: string, now: number): Promise<void> {
  await trx
    .updateTable('events')
    .set({ status: 'dry_run', lease_owner: null, lease_expires_at: null, next_attempt_at: null, updated_at: now })
    .where('id', '=', id)
    .where('lease_owner', '=', owner)
    .where('status', '=', 'delivering')
    .execute();
}

/** Gives back every lease `owner` holds (clean shutdown), making those events due at once. */
export async function releaseLeases(db: Db, owner: string, now: number): Promise<number> {
  const result = await db
    .updateTable('events')
    .set({
      status: sql<EventStatus>`case when attempts = 0 then 'queued' else 'retrying' end`,
      lease_owner: null,
      lease_expires_at: null,
      next_attempt_at: now,
      updated_at: now,
    })
    .where('lease_owner', '=', owner)
    .where(DELIVERING)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/**
 * Puts a finished event (delivered, failed or dry_run) back to `status` with a fresh retry budget.
 * Returns the event's status before the change, or undefined when the id is unknown.
 */
export async function replayEvent(db: Db, id: string, status: 'queued' | 'dry_run', now: number): Promise<{ replayed: boolean; previous: EventStatus } | undefined> {
  const row = await db.selectFrom('events').select('status').where('id', '=', id).executeTakeFirst();
  if (!row) return undefined;
  const updated = await db
    .updateTable('events')
    .set({
      status,
      transient_failures: 0,
      next_attempt_at: status === 'queued' ? now : null,
      last_error: null,
      delivered_at: null,
      updated_at: now,
    })
    .where('id', '=', id)
    .where('status', 'in', ['delivered', 'failed', 'dry_run'])
    .executeTakeFirst();
  return { replayed: Number(updated.numUpdatedRows) === 1, previous: row.status };
}
