import { sql, type Kysely, type Transaction } from 'kysely';
import { NEEDS_A_PERSON, type Outcome } from '../domain/rollback-event';
import type { Database } from './schema';

type Db = Kysely<Database> | Transaction<Database>;

/** A rollback that ended where a person must act, not yet acknowledged. */
export interface NeedsAPerson {
  id: string;
  app: string;
  outcome: Outcome;
  reason: string | null;
  runUrl: string | null;
  /** When it reached that outcome. */
  since: number;
}

/**
 * Rollbacks that ended restore_failed, run_missing or unverified and that nobody acknowledged since (an
 * acknowledgement older than the outcome, as after a replay that failed again, does not count): how
 * many, and the newest `limit`. Reads the partial index events_needs_a_person_idx, so it costs what
 * those few rows cost, whatever the history.
 */
export async function listNeedsAPerson(db: Db, limit: number): Promise<{ count: number; newest: NeedsAPerson[] }> {
  const open = needsAPersonQuery(db);
  const [counted, rows] = await Promise.all([
    open.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    open.select(['e.id', 'e.app', 'e.outcome', 'e.outcome_reason', 'e.run_url', 'e.updated_at']).orderBy('e.updated_at', 'desc').orderBy('e.id', 'desc').limit(limit).execute(),
  ]);
  return {
    count: counted.n,
    newest: rows.map((r) => ({ id: r.id, app: r.app, outcome: r.outcome!, reason: r.outcome_reason, runUrl: r.run_url, since: r.updated_at })),
  };
}

export interface RecordedAcknowledgement {
  by: string;
  reason: string | null;
  at: number;
  via: 'ui' | 'api';
}

/**
 * The one rule for what an acknowledgement acknowledges: the dead end the event is in now, reached when
 * its summary last changed (events.updated_at). One recorded before that acknowledged an earlier dead end
 * (before a replay that failed again) and counts for nothing now.
 */
const ACKNOWLEDGES_CURRENT = sql<boolean>`a.action = 'acknowledge' and a.event_id = e.id and a.at >= e.updated_at`;

/** The events listNeedsAPerson reads: dead ends without an acknowledgement of the dead end they are in. */
export function needsAPersonQuery(db: Db) {
  return (
    db
      .selectFrom('events as e')
      // The partial index's condition with literal values: a bound parameter list would not prove it
      // (SQLite then reads all events: 824 ms at 1,000,000).
      .where(sql<boolean>`e.outcome in (${sql.join(NEEDS_A_PERSON.map((o) => sql.lit(o)))})`)
      .where((eb) => eb.not(eb.exists(eb.selectFrom('admin_actions as a').select(sql<number>`1`.as('one')).where(ACKNOWLEDGES_CURRENT))))
  );
}

/** The acknowledgement of the rollback's current dead end, if someone recorded one. */
export async function findAcknowledgement(db: Db, eventId: string): Promise<RecordedAcknowledgement | undefined> {
  const row = await db
    .selectFrom('admin_actions as a')
    .innerJoin('events as e', 'e.id', 'a.event_id')
    .select(['a.actor', 'a.reason', 'a.at', 'a.via'])
    .where('a.event_id', '=', eventId)
    .where(ACKNOWLEDGES_CURRENT)
    .orderBy('a.at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? { by: row.actor, reason: row.reason, at: row.at, via: row.via } : undefined;
}
