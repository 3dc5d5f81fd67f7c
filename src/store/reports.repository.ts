import type { Kysely, Transaction } from 'kysely';
import type { RevisionReport } from '../domain/rollback-policy';
import type { Database, HealthReportRow } from './events.table';

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

/** Every app that ever sent a report or a rollback, alphabetically. */
export async function listAppNames(db: Db, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('health_reports')
    .select('app')
    .union(db.selectFrom('events').select('app'))
    .union(db.selectFrom('app_pauses').select('app'))
    .orderBy('app')
    .limit(limit)
    .execute();
  return rows.map((r) => r.app);
}
