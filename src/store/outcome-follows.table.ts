import type { Selectable } from 'kysely';
import type { Outcome } from '../domain/rollback-event';
import type { LeasedWorkColumns } from './leased-work.table';

/**
 * One follow-up of a delivered rollback, owned by the outcome follower: created when its delivery is
 * delivered, due for a look until its outcome is final, superseded by a replay, or handed on to the
 * follow-up of a re-dispatch.
 */
export interface OutcomeFollowsTable extends LeasedWorkColumns {
  id: string;
  event_id: string;
  seq: number;
  /** The delivery whose dispatch this follows. */
  delivery_id: string;
  outcome: Outcome;
  reason: string;
  /** When GitHub accepted the dispatch (the service's clock). */
  delivered_at: number;
  poll_ms: number;
  run_id: string | null;
  run_url: string | null;
  /** The last look (the service's clock) that saw the run not yet completed. */
  run_seen_open_at: number | null;
  /** A local-clock lower bound of when the run ended (see decideOutcome). */
  run_ended_at: number | null;
  /** Comma-separated ids of cancelled runs that were dispatched again. */
  cancelled_runs: string;
  redispatches: number;
  restore_commit: string | null;
  restore_url: string | null;
  pull_request_url: string | null;
  verified_report_id: string | null;
  /** Why it is no longer followed when that was not its outcome: 'redispatched', 'superseded'. */
  closed_as: string | null;
  created_at: number;
  updated_at: number;
}

export type OutcomeFollowRow = Selectable<OutcomeFollowsTable>;
