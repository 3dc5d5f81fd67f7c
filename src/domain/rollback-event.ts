import type { RestoreTarget } from './restore-plan';

/** The part of a restore plan one event carries: its target (repository, paths and why) and the plan's notes. */
export interface StoredRestorePlan {
  target: RestoreTarget;
  notes: string[];
  /** The other events stored for the same rollback (one per further repository). */
  siblings: Array<{ id: string; repository: string }>;
}

/**
 * What a rollback event is, as the rest of the code sees it (times in epoch ms). The store maps its rows
 * to these types at its edge; nothing here knows about tables.
 */

export const EVENT_STATUSES = ['queued', 'delivering', 'retrying', 'delivered', 'failed', 'dry_run', 'suppressed'] as const;
export type EventStatus = (typeof EVENT_STATUSES)[number];

export const OUTCOMES = ['awaiting_run', 'restoring', 'restored', 'verified', 'run_missing', 'restore_failed', 'unverified'] as const;
export type Outcome = (typeof OUTCOMES)[number];
/** Outcomes still being followed; the others are final. */
export const OPEN_OUTCOMES = ['awaiting_run', 'restoring', 'restored'] as const satisfies readonly Outcome[];
export const FINAL_OUTCOMES = ['verified', 'run_missing', 'restore_failed', 'unverified'] as const satisfies readonly Outcome[];

/** Dead ends: the rollback did not bring the app back, and a person must act (until one acknowledges it). */
export const NEEDS_A_PERSON = ['restore_failed', 'run_missing', 'unverified'] as const satisfies readonly Outcome[];

/**
 * `unconfirmed`: written before the request is sent and replaced by its result; one that stays was sent
 * (or about to be) but its result could not be recorded (the store failed, the process died): it may
 * have reached GitHub.
 */
export const ATTEMPT_OUTCOMES = ['delivered', 'retry', 'failed', 'unconfirmed'] as const;
/** The error an unconfirmed attempt carries until its result replaces it. */
export const UNCONFIRMED_ATTEMPT = 'sent, but its result could not be recorded (the store failed or the process stopped): it may have reached GitHub';
export type AttemptOutcome = (typeof ATTEMPT_OUTCOMES)[number];

/**
 * One rollback event: what it is (app, revisions, target, body) and a summary of its current delivery
 * and outcome follow-up. The summary is what the read side shows; the workers decide on their own work
 * items, never on it.
 */
export interface RollbackEvent {
  id: string;
  app: string;
  failedRevision: string;
  healthyRevision: string;
  target: { owner: string; repo: string };
  eventType: string;
  dispatchBody: string;
  status: EventStatus;
  /** Attempts of the current delivery (a replay starts a new delivery at 0). */
  attempts: number;
  nextAttemptAt: number | null;
  lastError: string | null;
  requestId: string | null;
  targetReason: string | null;
  suppressionReason: string | null;
  /** What this event restores, path by path and why, and the sources left out; null for older events. */
  restorePlan: StoredRestorePlan | null;
  createdAt: number;
  updatedAt: number;
  deliveredAt: number | null;
  /** What became of it after delivery (null until GitHub accepted it). */
  outcome: Outcome | null;
  outcomeReason: string | null;
  runUrl: string | null;
  restoreCommit: string | null;
  restoreUrl: string | null;
  pullRequestUrl: string | null;
  verifiedReportId: string | null;
  /** Re-dispatches of the current follow-up (a replay starts a new one at 0). */
  redispatches: number;
}

/** One change of an event's outcome (or a note on the way, such as a re-dispatch). */
export interface OutcomeHistoryEntry {
  at: number;
  outcome: Outcome;
  reason: string;
  url: string | null;
}

export interface DeliveryAttempt {
  attempt: number;
  startedAt: number;
  finishedAt: number;
  statusCode: number | null;
  outcome: AttemptOutcome;
  error: string | null;
  nextAttemptAt: number | null;
}
