import { sql, type Kysely } from 'kysely';

// Frozen once released: change the schema with a new dated migration, never by editing this one.
/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * Indexes for the hot queries, partial so they hold only the rows those queries read. Both SQLite and
 * PostgreSQL use a partial index only when the query repeats its condition with literal values (a bound
 * parameter could be anything), so the queries in events.repository.ts spell the statuses out.
 */
export async function up(db: Kysely<any>): Promise<void> {
  // The delivery queue in the order it is served, and the leases of the events in delivery: claiming the
  // next event reads one index entry, not every delivered row.
  await sql`create index events_pending_idx on events (next_attempt_at, created_at) where status in ('queued', 'retrying')`.execute(db);
  await sql`create index events_leases_idx on events (lease_expires_at) where status = 'delivering'`.execute(db);
  // (status, next_attempt_at) and (outcome, outcome_check_at) led SQLite's planner, which has no statistics, to that index and a sort of
  // every pending row on each claim. by status and the oldest undelivered event read this one.
  await sql`drop index events_due_idx`.execute(db);
  await sql`drop index events_created_idx`.execute(db);
  // The rollbacks whose outcome is being followed, in the order they are due, and the few leased.
  await sql`create index events_outcome_open_idx on events (outcome_check_at) where outcome in ('awaiting_run', 'restoring', 'restored') and status = 'delivered'`.execute(db);
  await sql`create index events_outcome_leases_idx on events (outcome_lease_expires_at) where outcome_lease_owner is not null`.execute(db);
  await sql`drop index events_outcome_due_idx`.execute(db);
  // Counts by status and by outcome, and the oldest undelivered event, read this narrow index.
  await sql`create index events_created_status_idx on events (created_at, status, outcome)`.execute(db);
  // An app's newest reports with what the policy filters them by, from the index alone (it replaces the
  // (app, reported_at) index, which it extends).
  await sql`create index health_reports_window_idx on health_reports (app, reported_at, id, status, revision)`.execute(db);
  await sql`drop index health_reports_app_idx`.execute(db);
  // The loop guard's count of an app's rollbacks in its window, from the index alone.
  await sql`create index events_rollbacks_idx on events (app, created_at) where status <> 'suppressed'`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index events_created_status_idx`.execute(db);
  await sql`create index events_outcome_due_idx on events (outcome, outcome_check_at)`.execute(db);
  await sql`drop index events_outcome_leases_idx`.execute(db);
  await sql`drop index events_outcome_open_idx`.execute(db);
  await sql`create index events_created_idx on events (created_at)`.execute(db);
  await sql`create index events_due_idx on events (status, next_attempt_at)`.execute(db);
  await sql`drop index events_rollbacks_idx`.execute(db);
  await sql`create index health_reports_app_idx on health_reports (app, reported_at)`.execute(db);
  await sql`drop index health_reports_window_idx`.execute(db);
  await sql`drop index events_leases_idx`.execute(db);
  await sql`drop index events_pending_idx`.execute(db);
}
