import type { AttemptOutcome, EventStatus, Outcome } from '../store/events.table';

export type { AttemptOutcome, EventStatus, Outcome };

/** One rollback event as the rest of the code sees it (times in epoch ms). */
export interface RollbackEvent {
  id: string;
  app: string;
  failedRevision: string;
  healthyRevision: string;
  target: { owner: string; repo: string };
  eventType: string;
  dispatchBody: string;
  status: EventStatus;
  attempts: number;
  transientFailures: number;
  nextAttemptAt: number | null;
  leaseOwner: string | null;
  leaseExpiresAt: number | null;
  lastError: string | null;
  requestId: string | null;
  targetReason: string | null;
  suppressionReason: string | null;
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
