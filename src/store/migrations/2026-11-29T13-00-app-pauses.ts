import type { Kysely } from 'kysely';

// Frozen once released: change the schema with a new dated migration, never by editing this one.
// Migrations take Kysely<any> (Kysely's advice): they must not depend on today's table types.
/* eslint-disable @typescript-eslint/no-explicit-any */

export async function up(db: Kysely<any>): Promise<void> {
  // One row per paused app: who paused it, why and when. In the store, so every replica and every
  // restart sees the same switch.
  await db.schema
    .createTable('app_pauses')
    .addColumn('app', 'varchar(253)', (c) => c.primaryKey())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('paused_by', 'varchar(100)', (c) => c.notNull())
    .addColumn('paused_at', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('app_pauses').execute();
}
