import { sql, type Kysely } from 'kysely';
import { OPEN_OUTCOMES } from '../domain/rollback-event';
import type { Database } from './schema';

/** The store's figures that /metrics and /v1/status both show; aggregates the indexes answer. */

export async function countEventsByStatus(db: Kysely<Database>): Promise<Record<string, number>> {
  const rows = await db.selectFrom('events').select(['status', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('status').execute();
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

export async function countOutcomes(db: Kysely<Database>): Promise<Record<string, number>> {
  const rows = await db.selectFrom('events').select(['outcome', (eb) => eb.fn.countAll<number>().as('n')]).where('outcome', 'is not', null).groupBy('outcome').execute();
  return Object.fromEntries(rows.map((r) => [String(r.outcome), r.n]));
}

export async function countOpenOutcomes(db: Kysely<Database>): Promise<number> {
  const row = await db.selectFrom('events').select((eb) => eb.fn.countAll<number>().as('n')).where('outcome', 'in', OPEN_OUTCOMES).executeTakeFirst();
  return row?.n ?? 0;
}

export async function countPendingNotifications(db: Kysely<Database>): Promise<number> {
  const row = await db.selectFrom('notifications').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'pending').executeTakeFirst();
  return row?.n ?? 0;
}

/** When the oldest event not yet delivered was created, or undefined when there is none. */
export async function oldestUndeliveredAt(db: Kysely<Database>): Promise<number | undefined> {
  return (await unfinishedFigures(db)).oldestUndeliveredAt;
}

/**
 * Undelivered (queued, retrying, delivering) and failed events: how many of each and the oldest, read from
 * the partial index events_unfinished_idx (its condition repeated with literal values), so the cost is
 * that of those rows, not of the whole history.
 */
export async function unfinishedFigures(db: Kysely<Database>): Promise<{ undelivered: number; failed: number; oldestUndeliveredAt: number | undefined }> {
  const { rows } = await sql<{ status: string; n: number; oldest: number | null }>`
    select status, count(*) as n, min(created_at) as oldest from events
    where status in ('queued', 'retrying', 'delivering', 'failed') group by status`.execute(db);
  let undelivered = 0;
  let failed = 0;
  let oldest: number | undefined;
  for (const row of rows) {
    if (row.status === 'failed') {
      failed = row.n;
      continue;
    }
    undelivered += row.n;
    if (row.oldest !== null) oldest = Math.min(oldest ?? Infinity, row.oldest);
  }
  return { undelivered, failed, oldestUndeliveredAt: oldest };
}
