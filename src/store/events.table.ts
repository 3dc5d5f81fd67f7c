import type { Selectable } from 'kysely';

export const EVENT_STATUSES = ['queued', 'delivering', 'retrying', 'delivered', 'failed', 'dry_run', 'suppressed'] as const;
export type EventStatus = (typeof EVENT_STATUSES)[number];

/** Times are epoch milliseconds. */
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
  status: EventStatus;
  attempts: number;
  /** Failures that count toward DELIVERY_MAX_ATTEMPTS (rate-limit waits do not). */
  transient_failures: number;
  next_attempt_at: number | null;
  lease_owner: string | null;
  lease_expires_at: number | null;
  last_error: string | null;
  request_id: string | null;
  /** Why this target: "from payload", "from ledger, recorded …", "from history id 8". */
  target_reason: string | null;
  /** Why the loop guard refused it (status suppressed). */
  suppression_reason: string | null;
  created_at: number;
  updated_at: number;
  delivered_at: number | null;
}

export const ATTEMPT_OUTCOMES = ['delivered', 'retry', 'failed'] as const;
export type AttemptOutcome = (typeof ATTEMPT_OUTCOMES)[number];

export interface AttemptsTable {
  event_id: string;
  attempt: number;
  started_at: number;
  finished_at: number;
  status_code: number | null;
  outcome: AttemptOutcome;
  error: string | null;
  next_attempt_at: number | null;
}

export interface HealthReportsTable {
  id: string;
  app: string;
  revision: string;
  /** Argo CD health status; rollback requests are recorded as Degraded. */
  status: string;
  source: 'health_report' | 'rollback_request';
  event_id: string | null;
  reported_at: number;
}

export interface DispatchSlotsTable {
  token_key: string;
  holder: string | null;
  held_until: number | null;
  next_allowed_at: number;
}

export interface Database {
  dispatch_slots: DispatchSlotsTable;
  events: EventsTable;
  attempts: AttemptsTable;
  health_reports: HealthReportsTable;
}

export type EventRow = Selectable<EventsTable>;
export type AttemptRow = Selectable<AttemptsTable>;
export type HealthReportRow = Selectable<HealthReportsTable>;
