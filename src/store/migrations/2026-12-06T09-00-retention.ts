import { sql, type Kysely } from 'kysely';

// Frozen once released: change the schema with a new dated migration, never by editing this one.
/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * Retention (issue 21) walks each table it trims in time order, a batch at a time: an index on the time
 * (and id, the walk's tie-break) for the tables that had none. Events have events_created_idx.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index health_reports_reported_idx on health_reports (reported_at, id)`.execute(db);
  await sql`create index notifications_created_idx on notifications (created_at, id)`.execute(db);
  await sql`create index admin_actions_at_idx on admin_actions (at, id)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const index of ['health_reports_reported_idx', 'notifications_created_idx', 'admin_actions_at_idx']) {
    await sql`drop index ${sql.ref(index)}`.execute(db);
  }
}
