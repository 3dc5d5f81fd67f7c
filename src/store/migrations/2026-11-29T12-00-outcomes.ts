import type { Kysely } from 'kysely';

// Frozen once released: change the schema with a new dated migration, never by editing this one.
// Migrations take Kysely<any> (Kysely's advice): they must not depend on today's table types.
/* eslint-disable @typescript-eslint/no-explicit-any */

const EVENT_COLUMNS: Array<[string, 'text' | 'bigint' | 'integer']> = [
  // What became of a delivered rollback: awaiting_run → restoring → restored → verified, or a dead end.
  ['outcome', 'text'],
  ['outcome_reason', 'text'],
  // When the outcome is next looked at, and the current polling step (doubles up to OUTCOME_POLL_MAX_MS).
  ['outcome_check_at', 'bigint'],
  ['outcome_poll_ms', 'bigint'],
  ['outcome_lease_owner', 'text'],
  ['outcome_lease_expires_at', 'bigint'],
  // GitHub run ids pass 2^31: kept as text.
  ['run_id', 'text'],
  ['run_url', 'text'],
  ['run_ended_at', 'bigint'],
  // Runs concluded cancelled that were dispatched again, comma-separated: the next lookup skips them.
  ['cancelled_runs', 'text'],
  ['redispatches', 'integer'],
  ['restore_commit', 'text'],
  ['restore_url', 'text'],
  ['pull_request_url', 'text'],
  ['verified_report_id', 'text'],
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const [name, type] of EVENT_COLUMNS) await db.schema.alterTable('events').addColumn(name, type).execute();
  await db.schema.createIndex('events_outcome_due_idx').on('events').columns(['outcome', 'outcome_check_at']).execute();

  // Every change of an event's outcome, with its time and reason: the story a person reads.
  await db.schema
    .createTable('outcome_history')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('event_id', 'varchar(36)', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('outcome', 'varchar(20)', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('url', 'text')
    .execute();
  await db.schema.createIndex('outcome_history_event_idx').on('outcome_history').columns(['event_id', 'at']).execute();

  // The notification outbox: written in the transaction that makes the news, sent by a worker.
  await db.schema
    .createTable('notifications')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('event_id', 'varchar(36)')
    .addColumn('app', 'varchar(253)', (c) => c.notNull())
    .addColumn('kind', 'varchar(30)', (c) => c.notNull())
    .addColumn('message', 'text', (c) => c.notNull())
    .addColumn('status', 'varchar(10)', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
    .addColumn('lease_owner', 'text')
    .addColumn('lease_expires_at', 'bigint')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('sent_at', 'bigint')
    .execute();
  await db.schema.createIndex('notifications_due_idx').on('notifications').columns(['status', 'next_attempt_at']).execute();

  // Why a Degraded report did not roll back (a revision long healthy before it degraded).
  await db.schema.alterTable('health_reports').addColumn('note', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('health_reports').dropColumn('note').execute();
  await db.schema.dropTable('notifications').execute();
  await db.schema.dropTable('outcome_history').execute();
  await db.schema.dropIndex('events_outcome_due_idx').execute();
  for (const [name] of [...EVENT_COLUMNS].reverse()) await db.schema.alterTable('events').dropColumn(name).execute();
}
