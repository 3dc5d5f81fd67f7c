import { sql, type Kysely } from 'kysely';

// Frozen once released: change the schema with a new dated migration, never by editing this one.
/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * "Told once" that remembers: one row per (app, kind, subject) people were told about (a chart-only
 * change, an app Argo CD never deployed), never deleted by retention. It was decided by looking for the
 * message among an app's 50 newest of that kind, which retention deletes once sent. Filled from the
 * messages still stored.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('told_once')
    .addColumn('app', 'varchar(253)', (c) => c.notNull())
    .addColumn('kind', 'varchar(32)', (c) => c.notNull())
    .addColumn('subject', 'varchar(2000)', (c) => c.notNull())
    .addColumn('told_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('told_once_pk', ['app', 'kind', 'subject'])
    .execute();
  const rows = await sql<{ app: string; kind: string; message: string; created_at: number | string }>`
    select app, kind, message, created_at from notifications where kind in ('not_restorable', 'not_deployed')`.execute(db);
  const told = new Map<string, { app: string; kind: string; subject: string; told_at: number }>();
  for (const row of rows.rows) {
    const { failedRevision } = JSON.parse(row.message) as { failedRevision?: unknown };
    const subject = typeof failedRevision === 'string' ? failedRevision : '';
    const key = JSON.stringify([row.app, row.kind, subject]);
    const at = Number(row.created_at);
    if (!told.has(key) || told.get(key)!.told_at > at) told.set(key, { app: row.app, kind: row.kind, subject, told_at: at });
  }
  for (const value of told.values()) await db.insertInto('told_once').values(value).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('told_once').execute();
}
