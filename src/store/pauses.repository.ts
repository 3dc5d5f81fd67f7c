import type { Kysely, Selectable, Transaction } from 'kysely';
import type { AppPausesTable } from './app-pauses.table';
import { noteApp } from './apps.repository';
import { prepared } from './prepared';
import type { Database } from './schema';

type Db = Kysely<Database> | Transaction<Database>;

export interface AppPause {
  app: string;
  reason: string;
  by: string;
  since: number;
}

/** Pauses `app` (or replaces the reason and who of an existing pause). */
export async function pauseApp(db: Db, pause: AppPause): Promise<void> {
  await db
    .insertInto('app_pauses')
    .values({ app: pause.app, reason: pause.reason, paused_by: pause.by, paused_at: pause.since })
    .onConflict((oc) => oc.column('app').doUpdateSet({ reason: pause.reason, paused_by: pause.by, paused_at: pause.since }))
    .execute();
  await noteApp(db, pause.app, pause.since);
}

/** Resumes `app`; returns the pause that ended, if there was one. */
export async function resumeApp(db: Db, app: string): Promise<AppPause | undefined> {
  const pause = await findPause(db, app);
  if (pause) await db.deleteFrom('app_pauses').where('app', '=', app).execute();
  return pause;
}

export async function findPause(db: Db, app: string): Promise<AppPause | undefined> {
  const [row] = await pauseOf(db, { app });
  return row ? toPause(row) : undefined;
}

// Read per webhook: built once (src/store/prepared.ts).
const pauseOf = prepared((db, p: { app: string }) => db.selectFrom('app_pauses').selectAll().where('app', '=', p.app));

/** The pauses of these apps (apps not paused are absent). */
export async function findPauses(db: Db, apps: readonly string[]): Promise<AppPause[]> {
  if (apps.length === 0) return [];
  return (await db.selectFrom('app_pauses').selectAll().where('app', 'in', [...apps]).execute()).map(toPause);
}

const toPause = (row: Selectable<AppPausesTable>): AppPause => ({ app: row.app, reason: row.reason, by: row.paused_by, since: row.paused_at });
