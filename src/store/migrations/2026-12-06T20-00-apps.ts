import { sql, type Kysely } from 'kysely';

// Frozen once released: change the schema with a new dated migration, never by editing this one.
/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * The status page at 10,000 apps and 1,000,000 events (issue 21): the list of apps was a union over every
 * report, event and pause, read on each overview; now it is a table of its own, one row per app, written
 * when an app is first seen (and never by retention). The overview's banner counts undelivered and
 * failed events and finds the oldest: a partial index of those few rows (a count read every event before).
 * Queries must repeat its condition with literal values to use it.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('apps')
    .addColumn('app', 'varchar(253)', (c) => c.primaryKey())
    .addColumn('first_seen_at', 'bigint', (c) => c.notNull())
    .execute();
  await sql`insert into apps (app, first_seen_at)
    select app, min(at) from (
      select app, reported_at as at from health_reports
      union all select app, created_at as at from events
      union all select app, paused_at as at from app_pauses
    ) seen group by app`.execute(db);
  // Retention deletes an event's messages and admin actions by event id: without these, a scan of each
  // table per batch (280 ms a batch on PostgreSQL at 20,000 events).
  await sql`create index notifications_event_idx on notifications (event_id)`.execute(db);
  await sql`create index admin_actions_event_idx on admin_actions (event_id)`.execute(db);
  await sql`create index events_unfinished_idx on events (status, created_at) where status in ('queued', 'retrying', 'delivering', 'failed')`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index events_unfinished_idx`.execute(db);
  await sql`drop index admin_actions_event_idx`.execute(db);
  await sql`drop index notifications_event_idx`.execute(db);
  await db.schema.dropTable('apps').execute();
}
