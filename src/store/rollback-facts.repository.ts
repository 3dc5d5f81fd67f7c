import type { Kysely, Transaction } from 'kysely';
import { rollbackIdQuery, rollbacksSinceQuery, type RollbackKey } from './events.repository';
import type { AppPause } from './pauses.repository';
import { prepared } from './prepared';
import { idLengthColumns, type IdLengths } from './reports.repository';
import type { Database } from './schema';

type Db = Kysely<Database> | Transaction<Database>;

/** What the store knows of a rollback request before the policy weighs it, read in one statement. */
export interface StoredRollbackFacts {
  /** The rollback already stored for the key (not suppressed), if any. */
  existingId: string | undefined;
  /** The app's rollbacks since the loop guard's window began (rollbacksSinceQuery). */
  recentRollbacks: number;
  paused: AppPause | undefined;
  /** The app's id lengths, which listPolicyReports would otherwise read itself. */
  idLengths: IdLengths;
}

const factsOf = prepared((db, p: { owner: string; repo: string; app: string; failedRevision: string; since: number }) => {
  const pause = db.selectFrom('app_pauses').where('app', '=', p.app);
  return db.selectNoFrom([
    rollbackIdQuery(db, p).as('existing_id'),
    rollbacksSinceQuery(db, p.app, p.since).as('recent'),
    pause.select('reason').as('pause_reason'),
    pause.select('paused_by').as('paused_by'),
    pause.select('paused_at').as('paused_at'),
    ...idLengthColumns(db, p.app),
  ]);
});

/**
 * The accept path's reads before its plan, one round trip instead of four (on PostgreSQL each statement
 * is one): the key's stored rollback, the loop guard's count since `since`, the app's pause and its id
 * lengths. Each is a scalar subquery on its own index, as the separate reads were.
 */
export async function readRollbackFacts(db: Db, key: RollbackKey, since: number): Promise<StoredRollbackFacts> {
  const [row] = await factsOf(db, { owner: key.owner, repo: key.repo, app: key.app, failedRevision: key.failedRevision, since });
  if (!row) throw new Error('readRollbackFacts: the select answered no row');
  return {
    existingId: row.existing_id ?? undefined,
    recentRollbacks: Number(row.recent ?? 0),
    paused: row.pause_reason === null || row.pause_reason === undefined ? undefined : { app: key.app, reason: row.pause_reason, by: row.paused_by ?? '', since: Number(row.paused_at) },
    idLengths: { shortest: row.shortest ?? null, longest: row.longest ?? null },
  };
}
