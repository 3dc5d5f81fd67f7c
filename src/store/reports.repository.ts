import type { Kysely, Selectable, Transaction } from 'kysely';
import { isKnownFailed, summarizeRevision } from '../domain/revision-summary';
import { byTime, type RevisionReport } from '../domain/rollback-policy';
import type { HealthReportRow, HealthReportsTable } from './health-reports.table';
import { noteApp } from './apps.repository';
import { prepared } from './prepared';
import type { RevisionStatesTable } from './revision-states.table';
import type { Database } from './schema';

type Db = Kysely<Database> | Transaction<Database>;

/** How many of an app's newest reports are shown, and read by the policy when ids of two lengths are about. */
export const REPORTS_CONSIDERED = 500;

/**
 * How many of an app's newest healthy revisions the policy weighs; older ones no longer decide anything
 * (a target ten good deploys back is stale). Read per request, so it bounds what a decision costs.
 */
export const LEDGER_CONSIDERED = 10;

function toReport(row: HealthReportRow): RevisionReport {
  return { id: row.id, revision: row.revision, status: row.status, source: row.source, reportedAt: row.reported_at, note: row.note };
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

/**
 * Stores a report and brings its revision's summary up to date (src/domain/revision-summary.ts), in the
 * caller's transaction. Two writers of one app must take turns (Store.lockApp): the summary is read,
 * folded and written back.
 */
export async function insertReport(db: Db, report: NewReport, now: number): Promise<void> {
  const row = { id: report.id, app: report.app, revision: report.revision, status: report.status, source: report.source, event_id: report.eventId, reported_at: now, note: report.note ?? null };
  await insertReportRow(db, row);
  await noteApp(db, report.app, now);
  const [state] = await revisionState(db, { app: report.app, revision: report.revision });
  const summary = summarizeRevision([...(state ? (JSON.parse(state.reports) as RevisionReport[]) : []), toReport(row)]);
  const values = {
    app: report.app,
    revision: report.revision,
    reports: JSON.stringify(summary),
    newest_healthy_at: summary.find((r) => r.status === 'Healthy')?.reportedAt ?? null,
    known_failed: isKnownFailed(summary) ? 1 : 0,
  };
  await (state ? updateRevisionState(db, values) : insertRevisionState(db, { ...values, id_length: report.revision.length }));
}

// The accept path's statements, built once (src/store/prepared.ts).
const insertReportRow = prepared((db, row: Selectable<HealthReportsTable>) => db.insertInto('health_reports').values(row));
const revisionState = prepared((db, p: { app: string; revision: string }) =>
  db.selectFrom('revision_states').select('reports').where('app', '=', p.app).where('revision', '=', p.revision),
);
type RevisionStateValues = Pick<Selectable<RevisionStatesTable>, 'app' | 'revision' | 'reports' | 'newest_healthy_at' | 'known_failed'>;
const updateRevisionState = prepared((db, p: RevisionStateValues) =>
  db
    .updateTable('revision_states')
    .set({ reports: p.reports, newest_healthy_at: p.newest_healthy_at, known_failed: p.known_failed })
    .where('app', '=', p.app)
    .where('revision', '=', p.revision),
);
const insertRevisionState = prepared((db, p: RevisionStateValues & { id_length: number }) => db.insertInto('revision_states').values(p));

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

/** The shortest and the longest revision id an app has reports of (null: none yet). */
export interface IdLengths {
  shortest: number | null;
  longest: number | null;
}

/** The app's shortest and longest revision id, one index entry each, as two columns of a select (see readRollbackFacts). */
export function idLengthColumns(db: Db, app: string) {
  const lengths = db.selectFrom('revision_states').select('id_length').where('app', '=', app).limit(1);
  return [lengths.orderBy('id_length', 'asc').as('shortest'), lengths.orderBy('id_length', 'desc').as('longest')] as const;
}

// What the policy reads per webhook, built once (src/store/prepared.ts): the id lengths; the named
// revisions; the newest healthy others.
const idLengths = prepared((db, p: { app: string }) => db.selectNoFrom(idLengthColumns(db, p.app)));
const namedStates = prepared((db, p: { app: string; names: string[] }) =>
  db.selectFrom('revision_states').select('reports').where('app', '=', p.app).where('revision', 'in', p.names),
);
const ledgerStates = prepared((db, p: { app: string; names: string[]; ledger: number }) =>
  db
    .selectFrom('revision_states')
    .select('reports')
    .where('app', '=', p.app)
    .where('newest_healthy_at', 'is not', null)
    .where('revision', 'not in', p.names)
    .orderBy('newest_healthy_at', 'desc')
    .limit(p.ledger),
);

/**
 * What the rollback policy reads of an app: the summaries of `revisions` (the failed revision, the
 * requested target, the history's revisions) and of the app's `ledger` newest healthy revisions, newest
 * first (`known`: the app's id lengths, when the caller read them with its own facts). A summary answers
 * every question the policy asks of its revision as all of its reports would
 * (src/domain/revision-summary.ts), so the read is a few rows whatever the history. When ids of more
 * than one length are about (an abbreviated id may name a full one), the app's newest reports are read
 * instead, as before the summaries.
 */
export async function listPolicyReports(db: Db, app: string, revisions: readonly string[], ledger = LEDGER_CONSIDERED, known?: IdLengths): Promise<RevisionReport[]> {
  const asked = new Set(revisions.map((r) => r.length));
  const [length] = asked;
  if (asked.size !== 1 || length === undefined) return listReports(db, app);
  const names = [...new Set(revisions)];
  const { shortest, longest } = known ?? (await idLengths(db, { app }))[0] ?? { shortest: null, longest: null };
  const otherLength = (shortest !== null && shortest !== length) || (longest !== null && longest !== length);
  if (otherLength) return listReports(db, app);
  const named = await namedStates(db, { app, names });
  const healthy = await ledgerStates(db, { app, names, ledger });
  const rows = [...named, ...healthy];
  return rows.flatMap((r) => JSON.parse(r.reports) as RevisionReport[]).sort((a, b) => byTime(b, a));
}

/**
 * A Degraded report that rolls nothing back and must not count against its revision (a chart version
 * changed, or Argo CD never deployed the app): kept as a row the policy never weighs (status Refused,
 * source refusal, no revision summary) so the app page, /v1/apps and the overview say why. A re-send of the
 * app's newest refusal adds nothing. True when it was stored. The caller holds the app's lock.
 */
export async function recordRefusal(db: Db, refusal: { id: string; app: string; revision: string; reason: string }, now: number): Promise<boolean> {
  const newest = await findLatestRefusal(db, refusal.app);
  if (newest && newest.revision === refusal.revision && newest.note === refusal.reason) return false;
  await db
    .insertInto('health_reports')
    .values({ id: refusal.id, app: refusal.app, revision: refusal.revision, status: REFUSED, source: 'refusal', event_id: null, reported_at: now, note: refusal.reason })
    .execute();
  await noteApp(db, refusal.app, now);
  return true;
}

/** The status of a refusal row: not an Argo CD health status, so no policy rule ever weighs it. */
export const REFUSED = 'Refused';

/** The newest Degraded report of `app` that rolled nothing back, with why (its note), if any. */
export async function findLatestRefusal(db: Db, app: string): Promise<RevisionReport | undefined> {
  const row = await db.selectFrom('health_reports').selectAll().where('app', '=', app).where('note', 'is not', null).orderBy('reported_at', 'desc').limit(1).executeTakeFirst();
  return row ? toReport(row) : undefined;
}

/** The reports with these ids (in no particular order). */
export async function findReportsByIds(db: Db, ids: readonly string[]): Promise<RevisionReport[]> {
  if (ids.length === 0) return [];
  const rows = await db.selectFrom('health_reports').selectAll().where('id', 'in', [...ids]).execute();
  return rows.map(toReport);
}
