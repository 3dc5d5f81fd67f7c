import { v7 as uuidv7 } from 'uuid';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { NotificationKind, NotificationMessage } from '../domain/notification';
import type { Dialect } from './database';
import { claimWork, completeWork, leaseOf, nextDueAt, releaseLeases, type Lease } from './leased-work';
import type { NotificationRow } from './notifications.table';
import type { Database } from './schema';

type Db = Kysely<Database> | Transaction<Database>;

/**
 * Adds a message to the outbox, in the caller's transaction: the news and its message commit together,
 * so nothing is told that did not happen and nothing that happened goes untold. No-op when `enabled`
 * is false (NOTIFY_URL unset).
 */
export async function enqueueNotification(db: Db, enabled: boolean, message: NotificationMessage): Promise<void> {
  if (!enabled) return;
  await db
    .insertInto('notifications')
    .values({
      id: uuidv7(),
      event_id: message.eventId,
      app: message.app,
      kind: message.kind,
      message: JSON.stringify(message),
      status: 'pending',
      attempts: 0,
      due_at: message.at,
      lease_owner: null,
      lease_expires_at: null,
      version: 0,
      last_error: null,
      created_at: message.at,
      sent_at: null,
    })
    .execute();
}

/**
 * Records, in the caller's transaction, that people are being told `kind` about `app` and `subject`:
 * true the first time, false ever after (told_once is never deleted: once means once, across retention).
 */
export async function tellOnce(db: Db, told: { app: string; kind: NotificationKind; subject: string; at: number }): Promise<boolean> {
  const result = await db
    .insertInto('told_once')
    .values({ app: told.app, kind: told.kind, subject: told.subject, told_at: told.at })
    .onConflict((oc) => oc.columns(['app', 'kind', 'subject']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

export interface OutboxItem {
  id: string;
  lease: Lease;
  attempts: number;
  message: NotificationMessage;
}

const toItem = (row: NotificationRow): OutboxItem => ({
  id: row.id,
  lease: leaseOf('notifications', row),
  attempts: row.attempts,
  message: JSON.parse(row.message) as NotificationMessage,
});

// A message is sent only once every earlier message of its app is sent or failed (ids are time-ordered),
// so one receiver hears an app's news in order ("dispatched" before "verified") while other apps' news
// goes on; a message refused for good (due_at null) no longer holds its app's later ones back.
const FIRST_OF_ITS_APP = sql<boolean>`not exists (select 1 from notifications earlier where earlier.app = notifications.app and earlier.id < notifications.id and earlier.due_at is not null)`;

/** Leases the next due message that is the first unsent one of its app. PostgreSQL: SKIP LOCKED. */
export async function claimNotification(db: Db, dialect: Dialect, now: number, owner: string, leaseMs: number): Promise<OutboxItem | undefined> {
  const [row] = await claimWork(db, dialect, 'notifications', { owner, leaseMs, now, where: FIRST_OF_ITS_APP });
  return row ? toItem(row) : undefined;
}

export type SendResult = { status: 'sent' } | { status: 'retry'; error: string; retryAt: number } | { status: 'failed'; error: string };

/** Records one send while the lease holds (LeaseLostError otherwise): sent, due again at `retryAt`, or failed for good. */
export async function recordNotificationSend(db: Db, item: OutboxItem, now: number, result: SendResult): Promise<void> {
  await completeWork(db, item.lease, {
    status: result.status === 'retry' ? 'pending' : result.status,
    attempts: item.attempts + 1,
    sent_at: result.status === 'sent' ? now : null,
    due_at: result.status === 'retry' ? result.retryAt : null,
    last_error: result.status === 'sent' ? null : result.error,
  });
}

/** When the next message may be sent (or a sender's lease runs out), or undefined when none is waiting. */
export function nextNotificationAt(db: Db, dialect: Dialect, now: number): Promise<number | undefined> {
  return nextDueAt(db, dialect, 'notifications', now, FIRST_OF_ITS_APP);
}

/** Gives back every message `owner` was sending (clean shutdown). */
export async function releaseNotificationLeases(db: Db, owner: string): Promise<number> {
  return releaseLeases(db, 'notifications', owner);
}

/** A message the receiver refused for good, as the status page lists it. */
export interface FailedNotification {
  id: string;
  app: string;
  kind: string;
  eventId: string | null;
  error: string;
  createdAt: number;
}

/** The newest messages refused for good (of one app, or of all), newest first. */
export async function listFailedNotifications(db: Db, filter: { app?: string; limit: number }): Promise<FailedNotification[]> {
  let query = db.selectFrom('notifications').select(['id', 'app', 'kind', 'event_id', 'last_error', 'created_at']).where('status', '=', 'failed');
  if (filter.app !== undefined) query = query.where('app', '=', filter.app);
  const rows = await query.orderBy('created_at', 'desc').limit(filter.limit).execute();
  return rows.map((r) => ({ id: r.id, app: r.app, kind: r.kind, eventId: r.event_id, error: r.last_error ?? 'refused', createdAt: r.created_at }));
}

/** How many messages the receiver refused for good. */
export async function countFailedNotifications(db: Db): Promise<number> {
  const row = await db.selectFrom('notifications').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'failed').executeTakeFirst();
  return row?.n ?? 0;
}
