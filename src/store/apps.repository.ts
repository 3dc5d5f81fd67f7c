import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema';

type Db = Kysely<Database> | Transaction<Database>;

/** Notes that `app` exists (the first report, rollback or pause of an app adds its row), in the caller's transaction. */
export async function noteApp(db: Db, app: string, now: number): Promise<void> {
  await db.insertInto('apps').values({ app, first_seen_at: now }).onConflict((oc) => oc.column('app').doNothing()).execute();
}

/** Every app that ever sent a report or a rollback (or was paused), alphabetically. */
export async function listAppNames(db: Db, limit: number, offset = 0): Promise<string[]> {
  const rows = await db.selectFrom('apps').select('app').orderBy('app').limit(limit).offset(offset).execute();
  return rows.map((r) => r.app);
}

export async function countAppNames(db: Db): Promise<number> {
  const row = await db.selectFrom('apps').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Where the newest facts of an app are: its last event, its last health report, its last refusal (ids). */
export interface AppHeads {
  app: string;
  lastEventId: string | null;
  lastReportId: string | null;
  lastRefusalId: string | null;
}

/**
 * The heads of many apps in one statement: a correlated lookup per app and kind, each one index entry
 * (events_app_created_idx, health_reports by app and time, the refusals' partial index).
 */
export async function listAppHeads(db: Db, apps: readonly string[]): Promise<AppHeads[]> {
  if (apps.length === 0) return [];
  const rows = await db
    .selectFrom('apps as a')
    .select((eb) => [
      'a.app',
      eb.selectFrom('events as e').select('e.id').whereRef('e.app', '=', 'a.app').orderBy('e.created_at', 'desc').orderBy('e.id', 'desc').limit(1).as('last_event'),
      eb
        .selectFrom('health_reports as h')
        .select('h.id')
        .whereRef('h.app', '=', 'a.app')
        .where('h.source', '=', 'health_report')
        .orderBy('h.reported_at', 'desc')
        .orderBy('h.id', 'desc')
        .limit(1)
        .as('last_report'),
      eb.selectFrom('health_reports as r').select('r.id').whereRef('r.app', '=', 'a.app').where('r.note', 'is not', null).orderBy('r.reported_at', 'desc').limit(1).as('last_refusal'),
    ])
    .where('a.app', 'in', [...apps])
    .execute();
  return rows.map((r) => ({ app: r.app, lastEventId: r.last_event ?? null, lastReportId: r.last_report ?? null, lastRefusalId: r.last_refusal ?? null }));
}
