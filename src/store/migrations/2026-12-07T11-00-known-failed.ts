import { sql, type Kysely } from 'kysely';

// Frozen once released: change the schema with a new dated migration, never by editing this one.
/* eslint-disable @typescript-eslint/no-explicit-any */

const PAGE = 5000;

/**
 * GET /v1/apps at 10,000 apps: each app's count of known-failed revisions from an index, instead of folding
 * its newest 500 reports. A revision is known failed when the newest of its Healthy and Degraded reports
 * is Degraded (its summary keeps both). Filled from the summaries, a page at a time; the rule is written
 * out here so this migration stays as it was.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('revision_states').addColumn('known_failed', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  let after: { app: string; revision: string } | undefined;
  for (;;) {
    const page = await sql<{ app: string; revision: string; reports: string }>`
      select app, revision, reports from revision_states
      ${after ? sql`where (app, revision) > (${after.app}, ${after.revision})` : sql``}
      order by app, revision limit ${PAGE}`.execute(db);
    const failed = page.rows.filter((row) => {
      const weighed = (JSON.parse(row.reports) as Array<{ status: string; reportedAt: number; id: string }>).filter((r) => r.status === 'Healthy' || r.status === 'Degraded');
      weighed.sort((a, b) => b.reportedAt - a.reportedAt || (b.id < a.id ? -1 : b.id > a.id ? 1 : 0));
      return weighed[0]?.status === 'Degraded';
    });
    for (const row of failed) await sql`update revision_states set known_failed = 1 where app = ${row.app} and revision = ${row.revision}`.execute(db);
    const last = page.rows[page.rows.length - 1];
    if (!last || page.rows.length < PAGE) break;
    after = { app: last.app, revision: last.revision };
  }
  await sql`create index revision_states_failed_idx on revision_states (app) where known_failed = 1`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index revision_states_failed_idx`.execute(db);
  await db.schema.alterTable('revision_states').dropColumn('known_failed').execute();
}
