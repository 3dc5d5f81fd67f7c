import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema';

type Db = Kysely<Database> | Transaction<Database>;

/** Records a new session; sessions that expired a day ago or more go at the same time. */
export async function startSession(db: Db, session: { id: string; name: string; expires: number }, now: number): Promise<void> {
  await db.deleteFrom('ui_sessions').where('expires_at', '<', now - 86_400_000).execute();
  await db.insertInto('ui_sessions').values({ id: session.id, name: session.name, created_at: now, expires_at: session.expires, ended_at: null }).execute();
}

/** Whether the session still stands: recorded, not ended, not expired. */
export async function sessionStands(db: Db, id: string, now: number): Promise<boolean> {
  const row = await db.selectFrom('ui_sessions').select(['expires_at', 'ended_at']).where('id', '=', id).executeTakeFirst();
  return row !== undefined && row.ended_at === null && row.expires_at > now;
}

/** Ends one session (sign-out). */
export async function endSession(db: Db, id: string, now: number): Promise<void> {
  await db.updateTable('ui_sessions').set({ ended_at: now }).where('id', '=', id).where('ended_at', 'is', null).execute();
}

/** Ends every session still open (sign out everywhere); returns how many. */
export async function endAllSessions(db: Db, now: number): Promise<number> {
  const result = await db.updateTable('ui_sessions').set({ ended_at: now }).where('ended_at', 'is', null).where('expires_at', '>', now).executeTakeFirst();
  return Number(result.numUpdatedRows);
}
