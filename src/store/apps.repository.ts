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
