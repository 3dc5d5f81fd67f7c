import { sql, type Kysely } from 'kysely';

// Frozen once released: change the schema with a new dated migration, never by editing this one.
/* eslint-disable @typescript-eslint/no-explicit-any */

export async function up(db: Kysely<any>): Promise<void> {
  // Who did what by hand, and why: pauses, resumes and replays, from the status page or the JSON API.
  await db.schema
    .createTable('admin_actions')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('app', 'varchar(253)', (c) => c.notNull())
    .addColumn('event_id', 'varchar(36)')
    .addColumn('action', 'varchar(20)', (c) => c.notNull())
    .addColumn('actor', 'varchar(100)', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('via', 'varchar(10)', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .execute();
  await sql`create index admin_actions_app_idx on admin_actions (app, at)`.execute(db);
  // An app's events newest first (its page, the overview's last rollback), suppressed ones included. With
  // the status in it, the loop guard's count of an app's rollbacks in its window reads this index alone,
  // so it replaces the partial (app, created_at) index and an event still writes the same number of indexes.
  await sql`create index events_app_idx on events (app, created_at, status)`.execute(db);
  await sql`drop index events_rollbacks_idx`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`create index events_rollbacks_idx on events (app, created_at) where status <> 'suppressed'`.execute(db);
  await sql`drop index events_app_idx`.execute(db);
  await db.schema.dropTable('admin_actions').execute();
}
