import { sql, type Kysely } from 'kysely';

// Frozen once released: change the schema with a new dated migration, never by editing this one.
/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * The overview's "needs a person" banner (issue 22): rollbacks that ended restore_failed, run_missing or
 * unverified and nobody acknowledged. A partial index of those few events keeps the banner's read off the
 * whole table; acknowledgements are admin actions, found by their event id (admin_actions_event_idx).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index events_needs_a_person_idx on events (updated_at) where outcome in ('restore_failed', 'run_missing', 'unverified')`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index events_needs_a_person_idx`.execute(db);
}
