import { sql, type Kysely } from 'kysely';

/**
 * The accept path writes every index of `events` once per rollback. events_app_created_idx (app,
 * created_at) is a prefix of events_app_idx (app, created_at, status), which serves every query it
 * served: one B-tree fewer to write per webhook.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists events_app_created_idx`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`create index events_app_created_idx on events (app, created_at)`.execute(db);
}
