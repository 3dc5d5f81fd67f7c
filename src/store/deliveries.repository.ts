import { v7 as uuidv7 } from 'uuid';
import type { Kysely, Transaction } from 'kysely';
import { UNCONFIRMED_ATTEMPT, type DeliveryAttempt, type RollbackEvent } from '../domain/rollback-event';
import type { Dialect } from './database';
import type { DeliveryRow, DeliveryState } from './deliveries.table';
import { summarizeDelivery, toRollbackEvent } from './events.repository';
import { claimWork, completeWork, leaseOf, nextDueAt, releaseLeases, renewLease, type Lease } from './leased-work';
import { prepared } from './prepared';
import type { Database } from './schema';

type Db = Kysely<Database> | Transaction<Database>;

const OPEN_STATES: readonly DeliveryState[] = ['queued', 'retrying'];

/** A delivery the worker holds: its own counts, the event it sends, and the lease to complete it with. */
export interface ClaimedDelivery {
  id: string;
  lease: Lease<'deliveries'>;
  /** Attempts and transient failures of this delivery (a replay starts at 0). */
  attempts: number;
  transientFailures: number;
  /** A re-dispatch: the follow-up it continues once delivered. */
  continuesFollowId: string | null;
  event: RollbackEvent;
}

/** Why a new delivery could not be opened: the event's current one is still open. */
export class DeliveryInProgressError extends Error {
  constructor(readonly eventId: string) {
    super(`event ${eventId} has a delivery in progress`);
    this.name = 'DeliveryInProgressError';
  }
}

/** The event's newest delivery (the one its summary shows), if any. */
export async function currentDelivery(db: Db, eventId: string): Promise<DeliveryRow | undefined> {
  return db.selectFrom('deliveries').selectAll().where('event_id', '=', eventId).orderBy('seq', 'desc').limit(1).executeTakeFirst();
}

/**
 * Opens the event's next delivery in the caller's transaction: `queued` (due now, fresh counts), or
 * `dry_run` (recorded, never sent). Throws DeliveryInProgressError while the current one is open; two
 * writers racing past that check both take the same `seq` and one insert fails on its unique index, so
 * an event never has two open deliveries. Returns the row; the caller writes the summary
 * (summarizeDelivery), or the event's first one with the event.
 */
export async function openDelivery(
  trx: Db,
  eventId: string,
  options: { state: 'queued' | 'dry_run'; now: number; continuesFollowId?: string | null; newEvent?: boolean },
): Promise<DeliveryRow> {
  // A new event has no delivery yet: the ingress path skips the look.
  const current = options.newEvent ? undefined : await currentDelivery(trx, eventId);
  if (current && OPEN_STATES.includes(current.state)) throw new DeliveryInProgressError(eventId);
  const queued = options.state === 'queued';
  const row: DeliveryRow = {
    id: uuidv7(),
    event_id: eventId,
    seq: current ? current.seq + 1 : 1,
    state: options.state,
    attempts: 0,
    transient_failures: 0,
    last_error: null,
    continues_follow_id: options.continuesFollowId ?? null,
    created_at: options.now,
    updated_at: options.now,
    finished_at: queued ? null : options.now,
    due_at: queued ? options.now : null,
    lease_owner: null,
    lease_expires_at: null,
    version: 0,
  };
  await insertDelivery(trx, row);
  return row;
}

// Per accepted webhook: built once (src/store/prepared.ts).
const insertDelivery = prepared((db, row: DeliveryRow) => db.insertInto('deliveries').values(row));

/**
 * Leases up to `limit` due deliveries (a dead worker's once its lease expired) to `owner`, and shows
 * their events as delivering.
 */
export async function claimDeliveries(trx: Db, dialect: Dialect, now: number, owner: string, leaseMs: number, limit = 1): Promise<ClaimedDelivery[]> {
  const rows = await claimWork(trx, dialect, 'deliveries', { owner, leaseMs, now, limit });
  if (rows.length === 0) return [];
  const events = await trx
    .selectFrom('events')
    .selectAll()
    .where('id', 'in', rows.map((r) => r.event_id))
    .execute();
  const claimed: ClaimedDelivery[] = [];
  for (const row of rows) {
    await summarizeDelivery(trx, dialect, row, now);
    const event = events.find((e) => e.id === row.event_id);
    if (!event) continue;
    claimed.push({
      id: row.id,
      lease: leaseOf('deliveries', row),
      attempts: row.attempts,
      transientFailures: row.transient_failures,
      continuesFollowId: row.continues_follow_id,
      event: { ...toRollbackEvent(event), status: 'delivering' },
    });
  }
  return claimed;
}

export interface DeliveryResult {
  state: 'delivered' | 'retrying' | 'failed';
  transientFailures: number;
  lastError: string | null;
  attempt: DeliveryAttempt;
}

/**
 * Before a request goes to GitHub: its attempt is written `unconfirmed` (UNCONFIRMED_ATTEMPT), numbered
 * after every earlier attempt of the event (the history reads in order across replays), while the lease
 * holds, which this renews (LeaseLostError otherwise: nothing is written, nothing may be sent). Its
 * result replaces it (completeDelivery); if that write fails, the history still shows a request that may
 * have reached GitHub. Returns the attempt's number and the renewed lease.
 */
export async function beginAttempt(trx: Db, dialect: Dialect, delivery: ClaimedDelivery, startedAt: number, leaseMs: number): Promise<{ attempt: number; lease: Lease<'deliveries'> }> {
  const lease = await renewLease(trx, dialect, delivery.lease, leaseMs);
  const last = await trx.selectFrom('attempts').select((eb) => eb.fn.max('attempt').as('n')).where('event_id', '=', delivery.event.id).executeTakeFirst();
  const attempt = (last?.n ?? 0) + 1;
  await trx
    .insertInto('attempts')
    .values({ event_id: delivery.event.id, delivery_id: delivery.id, attempt, started_at: startedAt, finished_at: startedAt, status_code: null, outcome: 'unconfirmed', error: UNCONFIRMED_ATTEMPT, next_attempt_at: null })
    .execute();
  return { attempt, lease };
}

/**
 * Records the result of the attempt beginAttempt wrote (`result.attempt.attempt` is its number) and the
 * delivery's new state, in the caller's transaction, while `delivery.lease` still holds (LeaseLostError
 * otherwise: nothing is written), and the event's summary.
 */
export async function completeDelivery(trx: Db, dialect: Dialect, delivery: ClaimedDelivery, result: DeliveryResult): Promise<void> {
  const { attempt } = result;
  const finished = result.state !== 'retrying';
  const row = await completeWork(trx, delivery.lease, {
    state: result.state,
    attempts: delivery.attempts + 1,
    transient_failures: result.transientFailures,
    last_error: result.lastError,
    updated_at: attempt.finishedAt,
    finished_at: finished ? attempt.finishedAt : null,
    due_at: finished ? null : attempt.nextAttemptAt,
  });
  await trx
    .updateTable('attempts')
    .set({ finished_at: attempt.finishedAt, status_code: attempt.statusCode, outcome: attempt.outcome, error: attempt.error, next_attempt_at: attempt.nextAttemptAt })
    .where('event_id', '=', delivery.event.id)
    .where('attempt', '=', attempt.attempt)
    .execute();
  await summarizeDelivery(trx, dialect, row, attempt.finishedAt);
}

/** Finishes a held delivery as dry_run without sending it (its app is in dry run), with the event's summary. */
export async function completeDeliveryAsDryRun(trx: Db, dialect: Dialect, delivery: ClaimedDelivery, now: number): Promise<void> {
  await summarizeDelivery(trx, dialect, await completeWork(trx, delivery.lease, { state: 'dry_run', updated_at: now, finished_at: now, due_at: null }), now);
}

/** Gives back every delivery `owner` holds (clean shutdown): they are due again at once. */
export async function releaseDeliveries(db: Db, owner: string): Promise<number> {
  return releaseLeases(db, 'deliveries', owner);
}

/** When the next delivery is due (or a lease runs out), or undefined when none is open. */
export function nextDeliveryDueAt(db: Db, dialect: Dialect, now: number): Promise<number | undefined> {
  return nextDueAt(db, dialect, 'deliveries', now);
}
