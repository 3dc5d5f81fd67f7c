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

/** Leases the oldest due message (or one whose sender died). PostgreSQL: SKIP LOCKED, so replicas take different ones. */
export async function claimNotification(db: Db, dialect: Dialect, now: number, owner: string, leaseMs: number): Promise<OutboxItem | undefined> {
  const rows = await db
    .updateTable('notifications')
    .set({ status: 'sending', lease_owner: owner, lease_expires_at: now + leaseMs })
    .where('id', 'in', (eb) => {
      const due = eb
        .selectFrom('notifications')
        .select('id')
        .where((w) => w.or([w.and([w('status', '=', 'pending'), w('next_attempt_at', '<=', now)]), w.and([w('status', '=', 'sending'), w('lease_expires_at', '<=', now)])]))
        .orderBy('next_attempt_at')
        .orderBy('id')
        .limit(1);
      return dialect === 'postgres' ? due.forUpdate().skipLocked() : due;
    })
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

/** When the next message is due (or a sender's lease expires), or undefined when the outbox is empty. */
export async function nextNotificationAt(db: Db): Promise<number | undefined> {
  const row = await db
    .selectFrom('notifications')
    .select((eb) => [eb.fn.min('next_attempt_at').as('due'), eb.fn.min('lease_expires_at').as('lease')])
    .where('status', 'in', ['pending', 'sending'])
    .executeTakeFirst();
  const candidates = [row?.due, row?.lease].filter((v) => v !== null && v !== undefined).map(Number);
  return candidates.length > 0 ? Math.min(...candidates) : undefined;
}

/** Gives back every message `owner` was sending (clean shutdown). */
export async function releaseNotificationLeases(db: Db, owner: string): Promise<void> {
  await db.updateTable('notifications').set({ status: 'pending', lease_owner: null, lease_expires_at: null }).where('lease_owner', '=', owner).where('status', '=', 'sending').execute();
}
