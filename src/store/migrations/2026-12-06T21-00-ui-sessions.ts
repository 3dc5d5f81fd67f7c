import type { Kysely } from 'kysely';

// Frozen once released: change the schema with a new dated migration, never by editing this one.
/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * Status page sessions in the store (issue 22): signing out ends the session on the server for every
 * replica, "sign out everywhere" ends them all, and sessions survive a restart. The cookie still carries
 * the signed session; the row says whether it still stands.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('ui_sessions')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('name', 'varchar(100)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('ended_at', 'bigint')
    .execute();
  await db.schema.createIndex('ui_sessions_expires_idx').on('ui_sessions').column('expires_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('ui_sessions').execute();
}
