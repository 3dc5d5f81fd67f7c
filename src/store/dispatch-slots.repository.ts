import type { Kysely, Transaction } from 'kysely';
import type { Database } from './events.table';

export type SlotAttempt = { acquired: true } | { acquired: false; retryAt: number };

/**
 * Takes the dispatch slot of a token: at most one holder at a time, and only once `next_allowed_at`
 * has passed. A holder that died is replaced once `held_until` has passed. One conditional UPDATE, so
 * two replicas asking at once cannot both win.
 */
export async function acquireSlot(db: Kysely<Database> | Transaction<Database>, tokenKey: string, owner: string, now: number, holdMs: number): Promise<SlotAttempt> {
  const take = async () =>
    Number(
      (
        await db
          .updateTable('dispatch_slots')
          .set({ holder: owner, held_until: now + holdMs })
          .where('token_key', '=', tokenKey)
          .where('next_allowed_at', '<=', now)
          .where((w) => w.or([w('holder', 'is', null), w('held_until', '<=', now), w('holder', '=', owner)]))
          .executeTakeFirst()
      ).numUpdatedRows,
    ) === 1;
  if (await take()) return { acquired: true };
  const row = await db.selectFrom('dispatch_slots').select(['held_until', 'next_allowed_at', 'holder']).where('token_key', '=', tokenKey).executeTakeFirst();
  if (!row) {
    // First use of this token: create its row (another replica may do so at the same time) and retry.
    await db
      .insertInto('dispatch_slots')
      .values({ token_key: tokenKey, holder: null, held_until: null, next_allowed_at: 0 })
      .onConflict((oc) => oc.column('token_key').doNothing())
      .execute();
    return (await take()) ? { acquired: true } : { acquired: false, retryAt: now };
  }
  const heldUntil = row.holder === null || row.held_until === null ? 0 : Number(row.held_until);
  return { acquired: false, retryAt: Math.max(Number(row.next_allowed_at), heldUntil) };
}

/** Gives the slot back; nobody may dispatch with the token before `nextAllowedAt` (never moved earlier). */
export async function releaseSlot(db: Kysely<Database> | Transaction<Database>, tokenKey: string, owner: string, nextAllowedAt: number): Promise<void> {
  const row = await db.selectFrom('dispatch_slots').select('next_allowed_at').where('token_key', '=', tokenKey).executeTakeFirst();
  await db
    .updateTable('dispatch_slots')
    .set({ holder: null, held_until: null, next_allowed_at: Math.max(Number(row?.next_allowed_at ?? 0), nextAllowedAt) })
    .where('token_key', '=', tokenKey)
    .where('holder', '=', owner)
    .execute();
}
