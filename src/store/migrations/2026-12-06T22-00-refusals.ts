import { sql, type Kysely } from 'kysely';

// Frozen once released: change the schema with a new dated migration, never by editing this one.
/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * Refusals on the status page (issue 22): each app's newest Degraded report that rolled nothing back (it
 * carries a note saying why) is read per overview row; a partial index of those few reports makes that one
 * index entry, not a walk through the app's reports.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index health_reports_refusals_idx on health_reports (app, reported_at) where note is not null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index health_reports_refusals_idx`.execute(db);
}
