import { sql, type Kysely, type Transaction } from 'kysely';
import type { RevisionReport } from '../domain/rollback-policy';
import type { HealthReportRow } from './health-reports.table';
import type { Database } from './schema';

type Db = Kysely<Database> | Transaction<Database>;

/** How many of an app's newest reports the policy looks at; older ones no longer decide anything. */
export const REPORTS_CONSIDERED = 500;

function toReport(row: HealthReportRow): RevisionReport {
  return { id: row.id, revision: row.revision, status: row.status, source: row.source, reportedAt: Number(row.reported_at), note: row.note };
}

export interface NewReport {
  id: string;
  app: string;
  revision: string;
  status: string;
  source: RevisionReport['source'];
  eventId: string | null;
  /** Why a Degraded report did not roll back, when that has a reason of its own. */
  note?: string | null;
}

export async function insertReport(db: Db, report: NewReport, now: number): Promise<void> {
  await db
    .insertInto('health_reports')
    .values({ id: report.id, app: report.app, revision: report.revision, status: report.status, source: report.source, event_id: report.eventId, reported_at: now, note: report.note ?? null })
    .execute();
}

/** An app's newest reports, newest first. */
export async function listReports(db: Db, app: string, limit = REPORTS_CONSIDERED): Promise<RevisionReport[]> {
  const rows = await db
    .selectFrom('health_reports')
    .selectAll()
    .where('app', '=', app)
    .orderBy('reported_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map(toReport);
}

/**
 * What the rollback policy reads of an app's newest `limit` reports: the reports of `revisions` (the
 * failed revision, the requested target, the history's revisions) and of every revision with a Healthy
 * report among them, newest first. With all those ids of one length, two ids name the same commit only
 * when equal, so the reports left out (other revisions' Degraded reports: one per earlier rollback)
 * change no decision, and the policy gets a few rows instead of up to `limit`. When lengths are mixed
 * (an abbreviated id), a short id may name a long one, so every report of the window is returned.
 */
export async function listPolicyReports(db: Db, app: string, revisions: readonly string[], limit = REPORTS_CONSIDERED): Promise<RevisionReport[]> {
  const lengths = new Set(revisions.map((r) => r.length));
  const [length] = lengths;
  if (lengths.size !== 1 || length === undefined) return listReports(db, app, limit);
  // The window is read from the covering index (app, reported_at, id, status, revision); only the rows
  // kept are read from the table.
  const { rows } = await sql<HealthReportRow>`
    with w as (select id, revision, status from health_reports where app = ${app} order by reported_at desc, id desc limit ${limit})
    select * from health_reports where id in (
      select id from w
      where revision in (${sql.join([...new Set(revisions)])})
        or revision in (select revision from w where status = 'Healthy')
        or exists (select 1 from w where length(revision) <> ${length}))
    order by reported_at desc, id desc`.execute(db);
  return rows.map(toReport);
}

function appNames(db: Db) {
  return db.selectFrom('health_reports').select('app').union(db.selectFrom('events').select('app')).union(db.selectFrom('app_pauses').select('app'));
}

/** Every app that ever sent a report or a rollback (or was paused), alphabetically. */
export async function listAppNames(db: Db, limit: number, offset = 0): Promise<string[]> {
  const rows = await appNames(db).orderBy('app').limit(limit).offset(offset).execute();
  return rows.map((r) => r.app);
}

export async function countAppNames(db: Db): Promise<number> {
  const row = await db
    .selectFrom(appNames(db).as('names'))
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The newest report Argo CD sent for `app` (a health report, not a rollback request). */
export async function findLatestHealthReport(db: Db, app: string): Promise<RevisionReport | undefined> {
  const row = await db
    .selectFrom('health_reports')
    .selectAll()
    .where('app', '=', app)
    .where('source', '=', 'health_report')
    .orderBy('reported_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? toReport(row) : undefined;
}
