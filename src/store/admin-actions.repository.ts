import type { Kysely, Transaction } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import type { AdminAction } from '../domain/admin-action';
import type { Database } from './schema';

type Db = Kysely<Database> | Transaction<Database>;

export interface RecordedAction {
  id: string;
  app: string;
  eventId: string | null;
  action: AdminAction;
  by: string;
  reason: string | null;
  via: 'ui' | 'api';
  at: number;
}

export async function recordAction(db: Db, action: Omit<RecordedAction, 'id'>): Promise<void> {
  await db
    .insertInto('admin_actions')
    .values({ id: uuidv7(), app: action.app, event_id: action.eventId, action: action.action, actor: action.by, reason: action.reason, via: action.via, at: action.at })
    .execute();
}

/** An app's actions, newest first. */
export async function listActions(db: Db, app: string, limit: number): Promise<RecordedAction[]> {
  const rows = await db.selectFrom('admin_actions').selectAll().where('app', '=', app).orderBy('at', 'desc').orderBy('id', 'desc').limit(limit).execute();
  return rows.map((r) => ({ id: r.id, app: r.app, eventId: r.event_id, action: r.action, by: r.actor, reason: r.reason, via: r.via, at: r.at }));
}
