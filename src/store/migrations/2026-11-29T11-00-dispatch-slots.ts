import type { Kysely } from 'kysely';

// Frozen once released: change the schema with a new dated migration, never by editing this one.
// Migrations take Kysely<any> (Kysely's advice): they must not depend on today's table types.
/* eslint-disable @typescript-eslint/no-explicit-any */

export async function up(db: Kysely<any>): Promise<void> {
  // One row per GitHub token (keyed by a hash, never the token): who may dispatch now, and from when.
  // Shared by every replica on the database, so pacing and rate-limit pauses hold across all of them.
  await db.schema
    .createTable('dispatch_slots')
    .addColumn('token_key', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('holder', 'varchar(100)')
    .addColumn('held_until', 'bigint')
    .addColumn('next_allowed_at', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('dispatch_slots').execute();
}
