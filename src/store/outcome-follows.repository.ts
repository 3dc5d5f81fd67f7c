import { v7 as uuidv7 } from 'uuid';
import type { Kysely, Transaction } from 'kysely';
import type { OutcomeDecision, OutcomeState } from '../domain/outcome';
import type { Outcome, OutcomeHistoryEntry, RollbackEvent } from '../domain/rollback-event';
import type { Dialect } from './database';
import { openDelivery } from './deliveries.repository';
import { summarizeDelivery, summarizeFollow, toRollbackEvent } from './events.repository';
import { claimWork, completeWork, leaseOf, nextDueAt, releaseLeases, type Lease } from './leased-work';
import type { OutcomeFollowRow } from './outcome-follows.table';
import type { Database } from './schema';

type Db = Kysely<Database> | Transaction<Database>;

async function addHistory(db: Db, eventId: string, at: number, entries: ReadonlyArray<{ outcome: Outcome; reason: string; url: string | null }>): Promise<void> {
  if (entries.length === 0) return;
  await db
    .insertInto('outcome_history')
    .values(entries.map((e) => ({ id: uuidv7(), event_id: eventId, at, outcome: e.outcome, reason: e.reason, url: e.url })))
    .execute();
}

/**
 * Starts following a delivered dispatch, in the transaction that records the delivery:
 * - a re-dispatch continues the follow-up it came from (its outcome, re-dispatch count and cancelled
 *   runs carry over; its age counts from this delivery);
 * - a replay of a rollback followed before starts afresh (counts at 0), said in the history;
 * - the first delivery starts at awaiting_run.
 * Writes the event's outcome summary. Returns true for the first delivery of the event (the one people
 * are told about).
 */
export async function startFollow(trx: Db, dialect: Dialect, delivery: { id: string; eventId: string; continuesFollowId: string | null }, now: number, pollMs: number): Promise<boolean> {
  const previous = await trx.selectFrom('outcome_follows').selectAll().where('event_id', '=', delivery.eventId).orderBy('seq', 'desc').limit(1).executeTakeFirst();
  const continued = delivery.continuesFollowId === null ? undefined : await trx.selectFrom('outcome_follows').selectAll().where('id', '=', delivery.continuesFollowId).executeTakeFirst();
  const base = {
    id: uuidv7(),
    event_id: delivery.eventId,
    seq: previous ? previous.seq + 1 : 1,
    delivery_id: delivery.id,
    delivered_at: now,
    poll_ms: pollMs,
    run_id: null,
    run_url: null,
    run_seen_open_at: null,
    run_ended_at: null,
    restore_commit: null,
    restore_url: null,
    pull_request_url: null,
    verified_report_id: null,
    closed_as: null,
    created_at: now,
    updated_at: now,
    due_at: now + pollMs,
    lease_owner: null,
    lease_expires_at: null,
    version: 0,
  };
  if (continued) {
    const row = { ...base, outcome: continued.outcome, reason: continued.reason, cancelled_runs: continued.cancelled_runs, redispatches: continued.redispatches };
    await trx.insertInto('outcome_follows').values(row).execute();
    await summarizeFollow(trx, dialect, row, now);
    return false;
  }
  const reason = previous ? `dispatched again by a replay (was ${previous.outcome}); looking for the workflow run` : 'GitHub accepted the dispatch; looking for the workflow run';
  const row = { ...base, outcome: 'awaiting_run' as const, reason, cancelled_runs: '', redispatches: 0 };
  await trx.insertInto('outcome_follows').values(row).execute();
  await addHistory(trx, delivery.eventId, now, [{ outcome: 'awaiting_run', reason, url: null }]);
  await summarizeFollow(trx, dialect, row, now);
  return previous === undefined;
}

/** A follow-up the outcome worker holds: the event, the state the decision works on, and the lease. */
export interface FollowedRollback {
  id: string;
  deliveryId: string;
  lease: Lease<'outcome_follows'>;
  event: RollbackEvent;
  state: OutcomeState;
}

function toState(row: OutcomeFollowRow): OutcomeState {
  return {
    outcome: row.outcome,
    deliveredAt: row.delivered_at,
    runId: row.run_id,
    runSeenOpenAt: row.run_seen_open_at,
    runEndedAt: row.run_ended_at,
    cancelledRuns: row.cancelled_runs.split(',').filter(Boolean),
    redispatches: row.redispatches,
    restoreCommit: row.restore_commit,
    pullRequestUrl: row.pull_request_url,
    pollMs: row.poll_ms,
  };
}

/**
 * Leases one follow-up that is due for a look (or whose follower died). PostgreSQL: SKIP LOCKED, so two
 * replicas never look at, and never notify about, the same one at once.
 */
export async function claimFollow(db: Db, dialect: Dialect, now: number, owner: string, leaseMs: number): Promise<FollowedRollback | undefined> {
  const [row] = await claimWork(db, dialect, 'outcome_follows', { owner, leaseMs, now });
  if (!row) return undefined;
  const event = await db.selectFrom('events').selectAll().where('id', '=', row.event_id).executeTakeFirstOrThrow();
  return { id: row.id, deliveryId: row.delivery_id, lease: leaseOf('outcome_follows', row), event: toRollbackEvent(event), state: toState(row) };
}

/**
 * True when a newer delivery of the event exists than the one this follow-up follows: a replay took
 * over, and this follow-up must neither decide nor notify any more.
 */
async function isSuperseded(trx: Db, followed: FollowedRollback): Promise<boolean> {
  const newest = await trx.selectFrom('deliveries').select('id').where('event_id', '=', followed.event.id).orderBy('seq', 'desc').limit(1).executeTakeFirst();
  return newest !== undefined && newest.id !== followed.deliveryId;
}

/**
 * Writes a decision while the lease holds (LeaseLostError otherwise: nothing is written): the new state,
 * its history entries and, for a re-dispatch, a new delivery that continues this follow-up. When a replay
 * started a newer delivery meanwhile, the decision is dropped and the follow-up closed as superseded:
 * 'superseded' is returned and nothing may be notified.
 */
export async function recordFollowDecision(trx: Db, dialect: Dialect, followed: FollowedRollback, decision: OutcomeDecision, now: number): Promise<'recorded' | 'superseded'> {
  if (await isSuperseded(trx, followed)) {
    await completeWork(trx, followed.lease, { due_at: null, closed_as: 'superseded', updated_at: now });
    return 'superseded';
  }
  const { state } = decision;
  const last = decision.changes.at(-1);
  const row = await completeWork(trx, followed.lease, {
    outcome: state.outcome,
    ...(last ? { reason: last.reason } : {}),
    due_at: decision.nextCheckAt,
    poll_ms: state.pollMs,
    run_id: state.runId,
    ...(state.runUrl ? { run_url: state.runUrl } : {}),
    run_seen_open_at: state.runSeenOpenAt,
    run_ended_at: state.runEndedAt,
    cancelled_runs: state.cancelledRuns.join(','),
    redispatches: state.redispatches,
    restore_commit: state.restoreCommit,
    ...(state.restoreUrl ? { restore_url: state.restoreUrl } : {}),
    pull_request_url: state.pullRequestUrl,
    ...(state.verifiedReportId ? { verified_report_id: state.verifiedReportId } : {}),
    closed_as: decision.redispatch ? 'redispatched' : null,
    updated_at: now,
  });
  await addHistory(trx, followed.event.id, now, decision.changes);
  if (decision.redispatch) await summarizeDelivery(trx, dialect, await openDelivery(trx, followed.event.id, { state: 'queued', now, continuesFollowId: followed.id }), now);
  await summarizeFollow(trx, dialect, row, now);
  return 'recorded';
}

/** When the next follow-up is due for a look (or a lease runs out), or undefined when none is followed. */
export function nextFollowDueAt(db: Db, dialect: Dialect, now: number): Promise<number | undefined> {
  return nextDueAt(db, dialect, 'outcome_follows', now);
}

/** Gives back the follow-ups `owner` holds (clean shutdown): they are looked at again at once. */
export async function releaseFollows(db: Db, owner: string): Promise<number> {
  return releaseLeases(db, 'outcome_follows', owner);
}

export async function listOutcomeHistory(db: Db, eventId: string): Promise<OutcomeHistoryEntry[]> {
  const rows = await db.selectFrom('outcome_history').selectAll().where('event_id', '=', eventId).orderBy('at').orderBy('id').execute();
  return rows.map((r) => ({ at: r.at, outcome: r.outcome, reason: r.reason, url: r.url }));
}

/** The Healthy report that verifies a restore: at `revision` since `since`, or any after `after`. */
export async function findVerifyingReport(db: Db, app: string, query: { revision: string } | { after: number }, since: number): Promise<{ id: string; revision: string; reportedAt: number } | undefined> {
  let q = db.selectFrom('health_reports').select(['id', 'revision', 'reported_at']).where('app', '=', app).where('status', '=', 'Healthy');
  q = 'revision' in query ? q.where('revision', '=', query.revision).where('reported_at', '>=', since) : q.where('reported_at', '>', query.after);
  const row = await q.orderBy('reported_at').orderBy('id').executeTakeFirst();
  return row ? { id: row.id, revision: row.revision, reportedAt: row.reported_at } : undefined;
}

/** A report by id (the one that verified a rollback). */
export async function findReport(db: Db, id: string): Promise<{ id: string; revision: string; reportedAt: number } | undefined> {
  const row = await db.selectFrom('health_reports').select(['id', 'revision', 'reported_at']).where('id', '=', id).executeTakeFirst();
  return row ? { id: row.id, revision: row.revision, reportedAt: row.reported_at } : undefined;
}
