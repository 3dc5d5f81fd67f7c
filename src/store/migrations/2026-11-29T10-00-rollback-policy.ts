import { type Kysely, sql } from 'kysely';

// Frozen once released: change the schema with a new dated migration, never by editing this one.
// Migrations take Kysely<any> (Kysely's advice): they must not depend on today's table types.
/* eslint-disable @typescript-eslint/no-explicit-any */

export async function up(db: Kysely<any>): Promise<void> {
  // Every health observation per app: Healthy reports form the ledger of rollback targets; Degraded
  // reports and the failed revisions of rollback requests mark revisions as known failed.
  await db.schema
    .createTable('health_reports')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('app', 'varchar(253)', (c) => c.notNull())
    .addColumn('revision', 'varchar(64)', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('source', 'varchar(20)', (c) => c.notNull())
    .addColumn('event_id', 'varchar(36)')
    .addColumn('reported_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('health_reports_app_idx').on('health_reports').columns(['app', 'reported_at']).execute();

  await db.schema.alterTable('events').addColumn('target_reason', 'text').execute();
  await db.schema.alterTable('events').addColumn('suppression_reason', 'text').execute();

  // One rollback per (target repository, app, failed revision). Suppressed requests are kept for the
  // audit trail but do not hold the slot, so the same rollback can go through once the guard allows it.
  await sql`create unique index events_rollback_key on events (target_owner, target_repo, app, failed_revision) where status <> 'suppressed'`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('events_rollback_key').execute();
  await db.schema.alterTable('events').dropColumn('suppression_reason').execute();
  await db.schema.alterTable('events').dropColumn('target_reason').execute();
  await db.schema.dropTable('health_reports').execute();
}
