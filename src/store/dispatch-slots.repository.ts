import { sql, type Kysely, type Transaction } from 'kysely';
import type { Dialect } from './database';
import { claimWork, completeWork, databaseNow, leaseOf, LeaseLostError, type Lease } from './leased-work';
import type { Database } from './schema';

type Db = Kysely<Database> | Transaction<Database>;

export type SlotAttempt = { acquired: true; lease: Lease<'dispatch_slots'> } | { acquired: false; retryAt: number };

/**
 * Takes the dispatch slot of a token: leased work whose due time is when the token may next be used.
 * At most one holder at a time (a holder that died is replaced once its lease expired), never before
 * the due time. `retryAt` (the caller's clock) says when to ask again.
 */
export async function acquireSlot(db: Db, dialect: Dialect, tokenKey: string, owner: string, now: number, holdMs: number): Promise<SlotAttempt> {
  const take = async () => (await claimWork(db, dialect, 'dispatch_slots', { owner, leaseMs: holdMs, now, where: sql<boolean>`token_key = ${tokenKey}` }))[0];
  let row = await take();
  if (row) return { acquired: true, lease: leaseOf('dispatch_slots', row) };
  const current = await sql<{ due_at: number; wait: number | null }>`
    select due_at, case when lease_owner is null then null else lease_expires_at - ${databaseNow(dialect)} end as wait
    from dispatch_slots where token_key = ${tokenKey}`.execute(db);
  const slot = current.rows[0];
  if (!slot) {
    // First use of this token: create its row (another replica may do so at the same time) and retry.
    await db
      .insertInto('dispatch_slots')
      .values({ token_key: tokenKey, lease_owner: null, lease_expires_at: null, due_at: 0, version: 0 })
      .onConflict((oc) => oc.column('token_key').doNothing())
      .execute();
    row = await take();
    return row ? { acquired: true, lease: leaseOf('dispatch_slots', row) } : { acquired: false, retryAt: now };
  }
  const held = slot.wait === null ? now : now + Math.max(0, slot.wait);
  return { acquired: false, retryAt: Math.max(slot.due_at, held) };
}

/**
 * Gives the slot back; nobody may use the token before `nextAllowedAt` (never moved earlier). Returns
 * false when the lease had been taken over (the request outlived it): the new holder keeps the slot, and
 * only the token's pace is raised to `nextAllowedAt`, so a rate limit GitHub just announced still holds.
 */
export async function releaseSlot(db: Db, dialect: Dialect, lease: Lease<'dispatch_slots'>, nextAllowedAt: number): Promise<boolean> {
  const later = dialect === 'postgres' ? sql`greatest(due_at, ${nextAllowedAt})` : sql`max(due_at, ${nextAllowedAt})`;
  try {
    await completeWork(db, lease, { due_at: later });
    return true;
  } catch (error) {
    if (!(error instanceof LeaseLostError)) throw error;
    await db.updateTable('dispatch_slots').set({ due_at: nextAllowedAt }).where('token_key', '=', lease.key).where('due_at', '<', nextAllowedAt).execute();
    return false;
  }
}

/** The slot GitHub reads take with a token: its own pace, apart from the token's dispatch slot. */
export function readSlotKey(tokenKey: string): string {
  return `${tokenKey}#reads`;
}

/**
 * A rate limit GitHub announced belongs to the token: neither its dispatches nor its reads go before
 * `until` (never moved earlier), whichever of them heard it.
 */
export async function holdToken(db: Db, dialect: Dialect, tokenKey: string, until: number): Promise<void> {
  const later = dialect === 'postgres' ? sql<number>`greatest(dispatch_slots.due_at, excluded.due_at)` : sql<number>`max(dispatch_slots.due_at, excluded.due_at)`;
  for (const key of [tokenKey, readSlotKey(tokenKey)]) {
    await db
      .insertInto('dispatch_slots')
      .values({ token_key: key, lease_owner: null, lease_expires_at: null, due_at: until, version: 0 })
      .onConflict((oc) => oc.column('token_key').doUpdateSet({ due_at: later }))
      .execute();
  }
}
