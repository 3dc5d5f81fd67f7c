import { SqliteAdapter, sql, type Kysely } from 'kysely';
import type { RevisionReport } from '../../domain/rollback-policy';
import { summarizeRevision } from '../../domain/revision-summary';

// Frozen once released: change the schema with a new dated migration, never by editing this one.
/* eslint-disable @typescript-eslint/no-explicit-any */

const PAGE = 5000;

/**
 * The per-(app, revision) policy state (issue 19): a decision reads the rows of the revisions it weighs
 * and the app's newest healthy ones, instead of a window of the app's reports. Filled from the reports
 * stored so far, app by app in report order, a page at a time (the window index serves the order). If
 * summarizeRevision ever keeps more, a new migration refolds; this one keeps what it wrote.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('revision_states')
    .addColumn('app', 'text', (c) => c.notNull())
    .addColumn('revision', 'text', (c) => c.notNull())
    .addColumn('id_length', 'integer', (c) => c.notNull())
    .addColumn('reports', 'text', (c) => c.notNull())
    .addColumn('newest_healthy_at', 'bigint')
    .addPrimaryKeyConstraint('revision_states_pk', ['app', 'revision'])
    // SQLite: the rows themselves ordered by (app, revision), so an app's summaries share a few pages
    // and the primary key is not a second B-tree beside the table.
    .$call((table) => (db.getExecutor().adapter instanceof SqliteAdapter ? table.modifyEnd(sql`without rowid`) : table))
    .execute();
  await sql`create index revision_states_ledger_idx on revision_states (app, newest_healthy_at)`.execute(db);
  await sql`create index revision_states_length_idx on revision_states (app, id_length)`.execute(db);

  let app: string | undefined;
  let summaries = new Map<string, RevisionReport[]>();
  const flush = async () => {
    const rows = [...summaries].map(([revision, reports]) => ({
      app,
      revision,
      id_length: revision.length,
      reports: JSON.stringify(reports),
      newest_healthy_at: reports.find((r) => r.status === 'Healthy')?.reportedAt ?? null,
    }));
    for (let i = 0; i < rows.length; i += 1000) await db.insertInto('revision_states').values(rows.slice(i, i + 1000)).execute();
    summaries = new Map();
  };
  let after: { app: string; reported_at: number; id: string } | undefined;
  for (;;) {
    const page: Array<{ id: string; app: string; revision: string; status: string; source: RevisionReport['source']; reported_at: number | string; note: string | null }> = await db
      .selectFrom('health_reports')
      .select(['id', 'app', 'revision', 'status', 'source', 'reported_at', 'note'])
      .$if(after !== undefined, (q) => q.where(sql<boolean>`(app, reported_at, id) > (${after!.app}, ${after!.reported_at}, ${after!.id})`))
      .orderBy('app')
      .orderBy('reported_at')
      .orderBy('id')
      .limit(PAGE)
      .execute();
    for (const row of page) {
      if (row.app !== app) {
        if (app !== undefined) await flush();
        app = row.app;
      }
      const report: RevisionReport = { id: row.id, revision: row.revision, status: row.status, source: row.source, reportedAt: Number(row.reported_at), note: row.note };
      summaries.set(row.revision, summarizeRevision([...(summaries.get(row.revision) ?? []), report]));
    }
    const last = page.at(-1);
    if (!last || page.length < PAGE) break;
    after = { app: last.app, reported_at: Number(last.reported_at), id: last.id };
  }
  if (app !== undefined) await flush();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('revision_states').execute();
}
