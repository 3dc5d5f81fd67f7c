import type { Kysely } from 'kysely';
import { OPEN_OUTCOMES } from '../domain/rollback-event';
import type { Database } from './schema';

/** The store's figures that /metrics and /v1/status both show; aggregates the indexes answer. */

export async function countEventsByStatus(db: Kysely<Database>): Promise<Record<string, number>> {
  const rows = await db.selectFrom('events').select(['status', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('status').execute();
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

export async function countOutcomes(db: Kysely<Database>): Promise<Record<string, number>> {
  const rows = await db.selectFrom('events').select(['outcome', (eb) => eb.fn.countAll<number>().as('n')]).where('outcome', 'is not', null).groupBy('outcome').execute();
  return Object.fromEntries(rows.map((r) => [String(r.outcome), Number(r.n)]));
}

export async function countOpenOutcomes(db: Kysely<Database>): Promise<number> {
  const row = await db.selectFrom('events').select((eb) => eb.fn.countAll<number>().as('n')).where('outcome', 'in', OPEN_OUTCOMES).executeTakeFirst();
  return Number(row?.n ?? 0);
}

export async function countPendingNotifications(db: Kysely<Database>): Promise<number> {
  const row = await db.selectFrom('notifications').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'pending').executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** When the oldest event not yet delivered was created, or undefined when there is none. */
export async function oldestUndeliveredAt(db: Kysely<Database>): Promise<number | undefined> {
  const row = await db.selectFrom('events').select((eb) => eb.fn.min('created_at').as('oldest')).where('status', 'in', ['queued', 'delivering', 'retrying']).executeTakeFirst();
  return row?.oldest === null || row?.oldest === undefined ? undefined : Number(row.oldest);
}
