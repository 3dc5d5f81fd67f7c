import { v7 as uuidv7 } from 'uuid';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { OutcomeDecision, OutcomeState } from '../domain/outcome';
import type { OutcomeHistoryEntry, RollbackEvent } from '../domain/rollback-event';
import type { Dialect } from './database';
import { OPEN_OUTCOMES, type Database, type EventRow, type Outcome } from './events.table';
import { toRollbackEvent } from './events.repository';

type Db = Kysely<Database> | Transaction<Database>;

// The conditions of the partial indexes (migration 2026-11-30T09-00), spelled with literal values, as a
// database needs to see them to use such an index.
const FOLLOWED = sql<boolean>`outcome in (${sql.join(OPEN_OUTCOMES.map((o) => sql.lit(o)))}) and status = 'delivered'`;
const LEASED = sql<boolean>`outcome_lease_owner is not null`;

const FINAL_OUTCOMES: readonly Outcome[] = ['verified', 'run_missing', 'restore_failed', 'unverified'];

async function addHistory(db: Db, eventId: string, at: number, entries: ReadonlyArray<{ outcome: Outcome; reason: string; url: string | null }>): Promise<void> {
  if (entries.length === 0) return;
  await db
    .insertInto('outcome_history')
    .values(entries.map((e) => ({ id: uuidv7(), event_id: eventId, at, outcome: e.outcome, reason: e.reason, url: e.url })))
    .execute();
}

/**
 * Called in the transaction that records a delivery: starts following the rollback (awaiting_run), or,
 * after a re-dispatch, looks again soon. A replay of a finished rollback starts a new follow-up; the
 * history keeps the old one. Returns true when this is the first delivery of the event.
 */
export async function startOutcome(trx: Transaction<Database>, eventId: string, now: number, pollMs: number): Promise<boolean> {
  const row = await trx.selectFrom('events').select('outcome').where('id', '=', eventId).executeTakeFirstOrThrow();
  const schedule = { outcome_check_at: now + pollMs, outcome_poll_ms: pollMs, outcome_lease_owner: null, outcome_lease_expires_at: null };
  if (row.outcome !== null && !FINAL_OUTCOMES.includes(row.outcome)) {
    await trx.updateTable('events').set(schedule).where('id', '=', eventId).execute();
    return false;
  }
  const reason = row.outcome === null ? 'GitHub accepted the dispatch; looking for the workflow run' : `dispatched again by a replay (was ${row.outcome}); looking for the workflow run`;
  await trx
    .updateTable('events')
    .set({ ...schedule, outcome: 'awaiting_run', outcome_reason: reason, run_id: null, run_url: null, run_ended_at: null, restore_commit: null, restore_url: null, pull_request_url: null, verified_report_id: null })
    .where('id', '=', eventId)
    .execute();
  await addHistory(trx, eventId, now, [{ outcome: 'awaiting_run', reason, url: null }]);
  return row.outcome === null;
}

/** A rollback whose outcome is being followed: the event and the state the decision works on. */
export interface FollowedRollback {
  event: RollbackEvent;
  state: OutcomeState;
}

function toFollowed(row: EventRow): FollowedRollback {
  const event = toRollbackEvent(row);
  return {
    event,
    state: {
      outcome: row.outcome ?? 'awaiting_run',
      deliveredAt: Number(row.delivered_at ?? row.updated_at),
      runId: row.run_id,
      runEndedAt: row.run_ended_at === null ? null : Number(row.run_ended_at),
      cancelledRuns: (row.cancelled_runs ?? '').split(',').filter(Boolean),
      redispatches: Number(row.redispatches ?? 0),
      restoreCommit: row.restore_commit,
      pullRequestUrl: row.pull_request_url,
      pollMs: Number(row.outcome_poll_ms ?? 0),
    },
  };
}

/**
 * Leases one delivered rollback whose outcome is due for a look (or whose follower died). PostgreSQL:
 * FOR UPDATE SKIP LOCKED, so two replicas never look at, and never notify about, the same one at once.
 */
export async function claimDueOutcome(db: Db, dialect: Dialect, now: number, owner: string, leaseMs: number): Promise<FollowedRollback | undefined> {
  const rows = await db
    .updateTable('events')
    .set({ outcome_lease_owner: owner, outcome_lease_expires_at: now + leaseMs })
    .where('id', 'in', (eb) => {
      const due = eb
        .selectFrom('events')
        .select('id')
        .where(FOLLOWED)
        .where('outcome_check_at', '<=', now)
        .where((w) => w.or([w('outcome_lease_owner', 'is', null), w('outcome_lease_expires_at', '<=', now)]))
        .orderBy('outcome_check_at')
        .limit(1);
      return dialect === 'postgres' ? due.forUpdate().skipLocked() : due;
    })
    .returningAll()
    .execute();
  return rows[0] ? toFollowed(rows[0]) : undefined;
}

/**
 * Writes a decision while `owner` still holds the lease: the new state, its history entries and, for a
 * re-dispatch, the event back on the delivery queue. Returns false when the lease was lost (another
 * follower took over), in which case nothing is written and nothing may be notified.
 */
export async function recordOutcome(trx: Transaction<Database>, eventId: string, owner: string, decision: OutcomeDecision, now: number): Promise<boolean> {
  const { state } = decision;
  const last = decision.changes.at(-1);
  const updated = await trx
    .updateTable('events')
    .set({
      outcome: state.outcome,
      ...(last ? { outcome_reason: last.reason } : {}),
      outcome_check_at: decision.nextCheckAt,
      outcome_poll_ms: state.pollMs,
      outcome_lease_owner: null,
      outcome_lease_expires_at: null,
      run_id: state.runId,
      ...(state.runUrl ? { run_url: state.runUrl } : {}),
      run_ended_at: state.runEndedAt,
      cancelled_runs: state.cancelledRuns.join(','),
      redispatches: state.redispatches,
      restore_commit: state.restoreCommit,
      ...(state.restoreUrl ? { restore_url: state.restoreUrl } : {}),
      pull_request_url: state.pullRequestUrl,
      ...(state.verifiedReportId ? { verified_report_id: state.verifiedReportId } : {}),
      ...(decision.redispatch ? { status: 'queued' as const, next_attempt_at: now, transient_failures: 0, delivered_at: null } : {}),
      updated_at: now,
    })
    .where('id', '=', eventId)
    .where('outcome_lease_owner', '=', owner)
    .executeTakeFirst();
  if (Number(updated.numUpdatedRows) !== 1) return false;
  await addHistory(trx, eventId, now, decision.changes);
  return true;
}

/** When the next outcome is due for a look, or undefined when none is being followed. */
export async function nextOutcomeCheckAt(db: Db): Promise<number | undefined> {
  // The first entry of each partial index: the followed rollbacks by due time, the few leased ones.
  const due = await db.selectFrom('events').select('outcome_check_at as at').where(FOLLOWED).orderBy('outcome_check_at').limit(1).executeTakeFirst();
  const lease = await db.selectFrom('events').select((eb) => eb.fn.min('outcome_lease_expires_at').as('at')).where(LEASED).where(FOLLOWED).executeTakeFirst();
  const candidates = [due?.at, lease?.at].filter((v) => v !== null && v !== undefined).map(Number);
  return candidates.length > 0 ? Math.min(...candidates) : undefined;
}

/** Gives back the outcome leases `owner` holds (clean shutdown): those rollbacks are looked at again at once. */
export async function releaseOutcomeLeases(db: Db, owner: string): Promise<void> {
  await db.updateTable('events').set({ outcome_lease_owner: null, outcome_lease_expires_at: null }).where(LEASED).where('outcome_lease_owner', '=', owner).execute();
}

export async function listOutcomeHistory(db: Db, eventId: string): Promise<OutcomeHistoryEntry[]> {
  const rows = await db.selectFrom('outcome_history').selectAll().where('event_id', '=', eventId).orderBy('at').orderBy('id').execute();
  return rows.map((r) => ({ at: Number(r.at), outcome: r.outcome, reason: r.reason, url: r.url }));
}

/** The Healthy report that verifies a restore: at `revision` since `since`, or any after `after`. */
export async function findVerifyingReport(db: Db, app: string, query: { revision: string } | { after: number }, since: number): Promise<{ id: string; revision: string; reportedAt: number } | undefined> {
  let q = db.selectFrom('health_reports').select(['id', 'revision', 'reported_at']).where('app', '=', app).where('status', '=', 'Healthy');
  q = 'revision' in query ? q.where('revision', '=', query.revision).where('reported_at', '>=', since) : q.where('reported_at', '>', query.after);
  const row = await q.orderBy('reported_at').orderBy('id').executeTakeFirst();
  return row ? { id: row.id, revision: row.revision, reportedAt: Number(row.reported_at) } : undefined;
}

/** A report by id (the one that verified a rollback). */
export async function findReport(db: Db, id: string): Promise<{ id: string; revision: string; reportedAt: number } | undefined> {
  const row = await db.selectFrom('health_reports').select(['id', 'revision', 'reported_at']).where('id', '=', id).executeTakeFirst();
  return row ? { id: row.id, revision: row.revision, reportedAt: Number(row.reported_at) } : undefined;
}
