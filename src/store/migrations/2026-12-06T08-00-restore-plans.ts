import type { Kysely } from 'kysely';

// Frozen once released: change the schema with a new dated migration, never by editing this one.
/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * What each rollback restores, path by path and why (issue 20): JSON of the event's RestoreTarget and
 * the notes on sources left out. Null for events stored before it (their dispatch body says the paths).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('events').addColumn('restore_plan', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('events').dropColumn('restore_plan').execute();
}
