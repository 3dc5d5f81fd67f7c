import type { AttemptOutcome, EventStatus } from '../store/events.table';

export type { AttemptOutcome, EventStatus };

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
