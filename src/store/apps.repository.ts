import { sql, type Kysely, type Transaction } from 'kysely';
import { prepared } from './prepared';
import type { Database } from './schema';

type Db = Kysely<Database> | Transaction<Database>;

/** Notes that `app` exists (the first report, rollback or pause of an app adds its row), in the caller's transaction. */
export async function noteApp(db: Db, app: string, now: number): Promise<void> {
  await insertApp(db, { app, now });
}

const insertApp = prepared((db, p: { app: string; now: number }) =>
  db.insertInto('apps').values({ app: p.app, first_seen_at: p.now }).onConflict((oc) => oc.column('app').doNothing()),
);

/** Whether the service has seen `app` (a report, a rollback or a pause). */
export async function appExists(db: Db, app: string): Promise<boolean> {
  return (await db.selectFrom('apps').select('app').where('app', '=', app).executeTakeFirst()) !== undefined;
}

/** Every app that ever sent a report or a rollback (or was paused), alphabetically; `after` pages by name (keyset). */
export async function listAppNames(db: Db, limit: number, offset = 0, after?: string): Promise<string[]> {
  let query = db.selectFrom('apps').select('app');
  if (after !== undefined) query = query.where('app', '>', after);
  const rows = await query.orderBy('app').limit(limit).offset(offset).execute();
  return rows.map((r) => r.app);
}

/** What GET /v1/apps counts of each app: its healthy revisions and its known-failed ones, ever. */
export interface AppCounts {
  app: string;
  healthyRevisions: number;
  knownFailedRevisions: number;
}

/**
 * The counts of many apps in one statement: per app two counts of index entries (revision_states_ledger_idx
 * for the healthy revisions, the partial revision_states_failed_idx for the known-failed ones), whatever
 * the history. Folding each app's newest 500 reports instead cost a read of up to 500 rows an app.
 */
export async function listAppCounts(db: Db, apps: readonly string[]): Promise<AppCounts[]> {
  if (apps.length === 0) return [];
  const values = sql.join(apps.map((app) => sql`(${app})`));
  const { rows } = await sql<{ app: string; healthy: number; failed: number }>`
    with w(app) as (values ${values})
    select w.app,
      (select count(*) from revision_states s where s.app = w.app and s.newest_healthy_at is not null) as healthy,
      (select count(*) from revision_states f where f.app = w.app and f.known_failed = 1) as failed
    from w`.execute(db);
  return rows.map((r) => ({ app: r.app, healthyRevisions: r.healthy, knownFailedRevisions: r.failed }));
}

export async function countAppNames(db: Db): Promise<number> {
  const row = await db.selectFrom('apps').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return row.n;
}

/** Where the newest facts of an app are (ids), and its rollbacks since the start of its loop-guard window. */
export interface AppHeads {
  app: string;
  lastEventId: string | null;
  lastReportId: string | null;
  lastRefusalId: string | null;
  /** rollbacksSinceQuery(app, since): distinct failed revisions of its events that were not suppressed. */
  rollbacksInWindow: number;
}

/**
 * The heads of many apps in one statement, each app with its own window start: per app and kind one
 * correlated lookup of a few index entries (events_app_idx, health_reports_window_idx, the refusals'
 * partial index). Correlated per app, not one grouped count over all of them: without fresh statistics
 * PostgreSQL planned that as a parallel scan, 44 ms for no rows at 1,000,000 events.
 */
export async function listAppHeads(db: Db, apps: ReadonlyArray<{ app: string; since: number }>): Promise<AppHeads[]> {
  if (apps.length === 0) return [];
  const values = sql.join(apps.map(({ app, since }) => sql`(${app}, cast(${since} as bigint))`));
  const { rows } = await sql<{ app: string; last_event: string | null; last_report: string | null; last_refusal: string | null; in_window: number }>`
    with w(app, since) as (values ${values})
    select w.app,
      (select e.id from events e where e.app = w.app order by e.created_at desc, e.id desc limit 1) as last_event,
      (select h.id from health_reports h where h.app = w.app and h.source = 'health_report' order by h.reported_at desc, h.id desc limit 1) as last_report,
      (select r.id from health_reports r where r.app = w.app and r.note is not null order by r.reported_at desc limit 1) as last_refusal,
      (select count(distinct c.failed_revision) from events c where c.app = w.app and c.status <> 'suppressed' and c.created_at >= w.since) as in_window
    from w`.execute(db);
  return rows.map((r) => ({ app: r.app, lastEventId: r.last_event, lastReportId: r.last_report, lastRefusalId: r.last_refusal, rollbacksInWindow: r.in_window }));
}
