import { sql, type Kysely } from 'kysely';

// Frozen once released: change the schema with a new dated migration, never by editing this one.
// Migrations take Kysely<any> (Kysely's advice): they must not depend on today's table types.
/* eslint-disable @typescript-eslint/no-explicit-any */

/** The columns of leased work (src/store/leased-work.ts): due time, holder, lease end, version. */
const LEASED = [
  ['due_at', 'bigint'],
  ['lease_owner', 'varchar(100)'],
  ['lease_expires_at', 'bigint'],
] as const;

/** Columns of the events row that were the workers' state; they move to the work tables. */
const MOVED_EVENT_COLUMNS = [
  'transient_failures',
  'lease_owner',
  'lease_expires_at',
  'outcome_check_at',
  'outcome_poll_ms',
  'outcome_lease_owner',
  'outcome_lease_expires_at',
  'run_id',
  'run_ended_at',
  'cancelled_runs',
];

/**
 * One table of leased work per worker (issue 18): deliveries and outcome follow-ups leave the events
 * row, which keeps what the event is and a summary; the outbox and the dispatch slots get the same
 * lease columns and a version. Existing rows are carried over: each event's delivery and follow-up
 * become the first of their kind (id = the event's id, seq 1), live leases included.
 */
export async function up(db: Kysely<any>): Promise<void> {
  let deliveries = db.schema
    .createTable('deliveries')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('event_id', 'varchar(36)', (c) => c.notNull().references('events.id').onDelete('cascade'))
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('state', 'varchar(16)', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('transient_failures', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_error', 'text')
    .addColumn('continues_follow_id', 'varchar(36)')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('finished_at', 'bigint');
  for (const [name, type] of LEASED) deliveries = deliveries.addColumn(name, type);
  await deliveries.addColumn('version', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  // seq numbers an event's deliveries; unique, so two writers that both see delivery n finished cannot
  // both open delivery n+1 (one insert fails): at most one open delivery per event, on either dialect.
  await sql`create unique index deliveries_event_seq_idx on deliveries (event_id, seq)`.execute(db);
  await sql`create index deliveries_due_idx on deliveries (due_at) where due_at is not null`.execute(db);
  // The few leased items: when the first lease runs out is one index entry, not a scan of the queue.
  await sql`create index deliveries_leases_idx on deliveries (lease_expires_at) where lease_owner is not null`.execute(db);

  let follows = db.schema
    .createTable('outcome_follows')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('event_id', 'varchar(36)', (c) => c.notNull().references('events.id').onDelete('cascade'))
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('delivery_id', 'varchar(36)', (c) => c.notNull())
    .addColumn('outcome', 'varchar(20)', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('delivered_at', 'bigint', (c) => c.notNull())
    .addColumn('poll_ms', 'bigint', (c) => c.notNull())
    .addColumn('run_id', 'text')
    .addColumn('run_url', 'text')
    .addColumn('run_seen_open_at', 'bigint')
    .addColumn('run_ended_at', 'bigint')
    .addColumn('cancelled_runs', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('redispatches', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('restore_commit', 'text')
    .addColumn('restore_url', 'text')
    .addColumn('pull_request_url', 'text')
    .addColumn('verified_report_id', 'text')
    .addColumn('closed_as', 'varchar(20)')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull());
  for (const [name, type] of LEASED) follows = follows.addColumn(name, type);
  await follows.addColumn('version', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await sql`create unique index outcome_follows_event_seq_idx on outcome_follows (event_id, seq)`.execute(db);
  await sql`create index outcome_follows_due_idx on outcome_follows (due_at) where due_at is not null`.execute(db);
  await sql`create index outcome_follows_leases_idx on outcome_follows (lease_expires_at) where lease_owner is not null`.execute(db);

  await db.schema.alterTable('attempts').addColumn('delivery_id', 'varchar(36)').execute();

  await sql`
    insert into deliveries (id, event_id, seq, state, attempts, transient_failures, last_error, continues_follow_id,
                            created_at, updated_at, finished_at, due_at, lease_owner, lease_expires_at, version)
    select id, id, 1,
           case status when 'delivering' then (case when attempts = 0 then 'queued' else 'retrying' end) else status end,
           attempts, transient_failures, last_error, null, created_at, updated_at,
           case when status in ('delivered', 'failed', 'dry_run') then updated_at else null end,
           case when status in ('queued', 'retrying') then next_attempt_at
                when status = 'delivering' then coalesce(next_attempt_at, updated_at) else null end,
           case when status = 'delivering' then lease_owner else null end,
           case when status = 'delivering' then lease_expires_at else null end,
           0
    from events where status <> 'suppressed'`.execute(db);
  await sql`update attempts set delivery_id = event_id`.execute(db);
  await sql`
    insert into outcome_follows (id, event_id, seq, delivery_id, outcome, reason, delivered_at, poll_ms, run_id, run_url,
                                 run_seen_open_at, run_ended_at, cancelled_runs, redispatches, restore_commit, restore_url,
                                 pull_request_url, verified_report_id, closed_as, created_at, updated_at,
                                 due_at, lease_owner, lease_expires_at, version)
    select id, id, 1, id, outcome, coalesce(outcome_reason, ''), coalesce(delivered_at, updated_at), coalesce(outcome_poll_ms, 10000),
           run_id, run_url, null, run_ended_at, coalesce(cancelled_runs, ''), coalesce(redispatches, 0), restore_commit, restore_url,
           pull_request_url, verified_report_id, null, coalesce(delivered_at, updated_at), updated_at,
           case when outcome in ('awaiting_run', 'restoring', 'restored') and status = 'delivered' then coalesce(outcome_check_at, updated_at) else null end,
           outcome_lease_owner, outcome_lease_expires_at, 0
    from events where outcome is not null`.execute(db);

  await sql`drop index events_pending_idx`.execute(db);
  await sql`drop index events_leases_idx`.execute(db);
  await sql`drop index events_outcome_open_idx`.execute(db);
  await sql`drop index events_outcome_leases_idx`.execute(db);
  for (const name of MOVED_EVENT_COLUMNS) await db.schema.alterTable('events').dropColumn(name).execute();

  // The outbox: a sender's lease no longer shows as a status ('sending' → pending with a lease); a message
  // the receiver refuses for good is 'failed' and no longer due. Order is kept per app: the claim reads
  // an app's first unsent message through (app, id).
  // A new column rather than a rename: next_attempt_at is NOT NULL, and SQLite cannot drop that.
  await db.schema.alterTable('notifications').addColumn('due_at', 'bigint').execute();
  await db.schema.alterTable('notifications').addColumn('version', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await sql`update notifications set status = 'pending' where status = 'sending'`.execute(db);
  await sql`update notifications set due_at = next_attempt_at where status <> 'sent'`.execute(db);
  await sql`drop index notifications_due_idx`.execute(db);
  await db.schema.alterTable('notifications').dropColumn('next_attempt_at').execute();
  await sql`create index notifications_due_idx on notifications (due_at) where due_at is not null`.execute(db);
  await sql`create index notifications_leases_idx on notifications (lease_expires_at) where lease_owner is not null`.execute(db);
  await sql`create index notifications_app_open_idx on notifications (app, id) where due_at is not null`.execute(db);
  await sql`create index notifications_failed_idx on notifications (app, created_at) where status = 'failed'`.execute(db);

  await db.schema.alterTable('dispatch_slots').renameColumn('holder', 'lease_owner').execute();
  await db.schema.alterTable('dispatch_slots').renameColumn('held_until', 'lease_expires_at').execute();
  await db.schema.alterTable('dispatch_slots').renameColumn('next_allowed_at', 'due_at').execute();
  await db.schema.alterTable('dispatch_slots').addColumn('version', 'integer', (c) => c.notNull().defaultTo(0)).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('dispatch_slots').dropColumn('version').execute();
  await db.schema.alterTable('dispatch_slots').renameColumn('due_at', 'next_allowed_at').execute();
  await db.schema.alterTable('dispatch_slots').renameColumn('lease_expires_at', 'held_until').execute();
  await db.schema.alterTable('dispatch_slots').renameColumn('lease_owner', 'holder').execute();

  await sql`drop index notifications_failed_idx`.execute(db);
  await sql`drop index notifications_leases_idx`.execute(db);
  await sql`drop index notifications_app_open_idx`.execute(db);
  await sql`drop index notifications_due_idx`.execute(db);
  await sql`update notifications set due_at = coalesce(due_at, created_at)`.execute(db);
  await sql`update notifications set status = 'sent' where status = 'failed'`.execute(db);
  await db.schema.alterTable('notifications').dropColumn('version').execute();
  await db.schema.alterTable('notifications').addColumn('next_attempt_at', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
  await sql`update notifications set next_attempt_at = due_at`.execute(db);
  await db.schema.alterTable('notifications').dropColumn('due_at').execute();
  await db.schema.createIndex('notifications_due_idx').on('notifications').columns(['status', 'next_attempt_at']).execute();

  for (const name of ['transient_failures']) await db.schema.alterTable('events').addColumn(name, 'integer', (c) => c.notNull().defaultTo(0)).execute();
  for (const name of ['lease_owner', 'outcome_lease_owner', 'run_id', 'cancelled_runs']) await db.schema.alterTable('events').addColumn(name, 'text').execute();
  for (const name of ['lease_expires_at', 'outcome_check_at', 'outcome_poll_ms', 'outcome_lease_expires_at', 'run_ended_at']) await db.schema.alterTable('events').addColumn(name, 'bigint').execute();
  await sql`create index events_pending_idx on events (next_attempt_at, created_at) where status in ('queued', 'retrying')`.execute(db);
  await sql`create index events_leases_idx on events (lease_expires_at) where status = 'delivering'`.execute(db);
  await sql`create index events_outcome_open_idx on events (outcome_check_at) where outcome in ('awaiting_run', 'restoring', 'restored') and status = 'delivered'`.execute(db);
  await sql`create index events_outcome_leases_idx on events (outcome_lease_expires_at) where outcome_lease_owner is not null`.execute(db);

  await db.schema.alterTable('attempts').dropColumn('delivery_id').execute();
  await db.schema.dropTable('outcome_follows').execute();
  await db.schema.dropTable('deliveries').execute();
}
