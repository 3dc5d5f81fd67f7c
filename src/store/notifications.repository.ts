import { v7 as uuidv7 } from 'uuid';
import type { Kysely, Transaction } from 'kysely';
import type { NotificationMessage } from '../domain/notification';
import type { Dialect } from './database';
import type { Database, NotificationRow } from './events.table';

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
      next_attempt_at: message.at,
      created_at: message.at,
    })
    .execute();
}

export interface OutboxItem {
  id: string;
  attempts: number;
  message: NotificationMessage;
}

const toItem = (row: NotificationRow): OutboxItem => ({ id: row.id, attempts: Number(row.attempts), message: JSON.parse(row.message) as NotificationMessage });

/** Messages not yet sent and not being sent by a live sender, oldest first (ids are time-ordered). */
function unsent(db: Db, now: number) {
  return db
    .selectFrom('notifications')
    .where((w) => w.or([w('status', '=', 'pending'), w.and([w('status', '=', 'sending'), w('lease_expires_at', '<=', now)])]))
    .orderBy('id')
    .limit(1);
}

/**
 * Leases the oldest unsent message once it is due: one receiver gets messages in the order they were
 * written, so after an outage "dispatched" still arrives before "verified". PostgreSQL: SKIP LOCKED,
 * so replicas never take the same message.
 */
export async function claimNotification(db: Db, dialect: Dialect, now: number, owner: string, leaseMs: number): Promise<OutboxItem | undefined> {
  const rows = await db
    .updateTable('notifications')
    .set({ status: 'sending', lease_owner: owner, lease_expires_at: now + leaseMs })
    .where('id', 'in', () => {
      const head = unsent(db, now).select('id');
      return dialect === 'postgres' ? head.forUpdate().skipLocked() : head;
    })
    .where((w) => w.or([w('status', '=', 'sending'), w('next_attempt_at', '<=', now)]))
    .returningAll()
    .execute();
  return rows[0] ? toItem(rows[0]) : undefined;
}

/** Records one send: sent, or pending again at `retryAt` with the error. Only while `owner` holds the lease. */
export async function recordNotificationSend(db: Db, id: string, owner: string, now: number, result: { sent: true } | { sent: false; error: string; retryAt: number }): Promise<void> {
  await db
    .updateTable('notifications')
    .set((eb) => ({
      status: result.sent ? 'sent' : 'pending',
      attempts: eb('attempts', '+', 1),
      sent_at: result.sent ? now : null,
      next_attempt_at: result.sent ? now : result.retryAt,
      last_error: result.sent ? null : result.error,
      lease_owner: null,
      lease_expires_at: null,
    }))
    .where('id', '=', id)
    .where('lease_owner', '=', owner)
    .execute();
}

/** When the oldest unsent message is due (or its sender's lease expires), or undefined when all are sent. */
export async function nextNotificationAt(db: Db, now: number): Promise<number | undefined> {
  const head = await unsent(db, now).select(['status', 'next_attempt_at', 'lease_expires_at']).executeTakeFirst();
  if (head) return Number(head.status === 'sending' ? head.lease_expires_at : head.next_attempt_at);
  // Only messages a live sender holds: look again when the first lease would expire.
  const row = await db.selectFrom('notifications').select((eb) => eb.fn.min('lease_expires_at').as('lease')).where('status', '=', 'sending').executeTakeFirst();
  return row?.lease === null || row?.lease === undefined ? undefined : Number(row.lease);
}

/** Gives back every message `owner` was sending (clean shutdown). */
export async function releaseNotificationLeases(db: Db, owner: string): Promise<void> {
  await db.updateTable('notifications').set({ status: 'pending', lease_owner: null, lease_expires_at: null }).where('lease_owner', '=', owner).where('status', '=', 'sending').execute();
}
