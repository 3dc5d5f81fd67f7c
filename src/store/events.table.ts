import type { Selectable } from 'kysely';
import type { EventStatus, Outcome } from '../domain/rollback-event';

/**
 * What a rollback event is (written once, at ingress) and a summary of its current delivery and
 * follow-up. The summary columns are a projection of the work tables (deliveries, outcome_follows),
 * written only by summarizeDelivery and summarizeFollow under the event's lock; no worker decides on
 * them. Times are epoch milliseconds.
 */
export interface EventsTable {
  id: string;
  app: string;
  failed_revision: string;
  healthy_revision: string;
  target_owner: string;
  target_repo: string;
  event_type: string;
  /** The exact JSON body sent to GitHub. */
  dispatch_body: string;
  request_id: string | null;
  /** Why this target: "from payload", "from ledger, recorded …", "from history id 8". */
  target_reason: string | null;
  /** Why the loop guard refused it (status suppressed). */
  suppression_reason: string | null;
  /** JSON: the event's RestoreTarget and notes (src/domain/restore-plan.ts); null before issue 20. */
  restore_plan: string | null;
  created_at: number;
  // The summary (see summarizeDelivery, summarizeFollow).
  status: EventStatus;
  attempts: number;
  next_attempt_at: number | null;
  last_error: string | null;
  updated_at: number;
  delivered_at: number | null;
  outcome: Outcome | null;
  outcome_reason: string | null;
  run_url: string | null;
  restore_commit: string | null;
  restore_url: string | null;
  pull_request_url: string | null;
  verified_report_id: string | null;
  redispatches: number | null;
}

export type EventRow = Selectable<EventsTable>;
