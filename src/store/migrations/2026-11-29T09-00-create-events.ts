import type { Kysely } from 'kysely';

// Frozen once released: change the schema with a new dated migration, never by editing this one.
// Migrations take Kysely<any> (Kysely's advice): they must not depend on today's table types.
/* eslint-disable @typescript-eslint/no-explicit-any */

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('events')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('app', 'varchar(253)', (c) => c.notNull())
    .addColumn('failed_revision', 'varchar(64)', (c) => c.notNull())
    .addColumn('healthy_revision', 'varchar(64)', (c) => c.notNull())
    .addColumn('target_owner', 'varchar(100)', (c) => c.notNull())
    .addColumn('target_repo', 'varchar(100)', (c) => c.notNull())
    .addColumn('event_type', 'varchar(100)', (c) => c.notNull())
    .addColumn('dispatch_body', 'text', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('transient_failures', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'bigint')
    .addColumn('lease_owner', 'varchar(100)')
    .addColumn('lease_expires_at', 'bigint')
    .addColumn('last_error', 'text')
    .addColumn('request_id', 'varchar(100)')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('delivered_at', 'bigint')
    .execute();
  await db.schema.createIndex('events_due_idx').on('events').columns(['status', 'next_attempt_at']).execute();
  await db.schema.createIndex('events_app_created_idx').on('events').columns(['app', 'created_at']).execute();
  await db.schema.createIndex('events_created_idx').on('events').columns(['created_at']).execute();

  await db.schema
    .createTable('attempts')
    .addColumn('event_id', 'varchar(36)', (c) => c.notNull().references('events.id').onDelete('cascade'))
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('finished_at', 'bigint', (c) => c.notNull())
    .addColumn('status_code', 'integer')
    .addColumn('outcome', 'varchar(16)', (c) => c.notNull())
    .addColumn('error', 'text')
    .addColumn('next_attempt_at', 'bigint')
    .addPrimaryKeyConstraint('attempts_pk', ['event_id', 'attempt'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('attempts').execute();
  await db.schema.dropTable('events').execute();
}
