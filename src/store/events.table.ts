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
  outcome: Outcome | null;
  outcome_reason: string | null;
  outcome_check_at: number | null;
  outcome_poll_ms: number | null;
  outcome_lease_owner: string | null;
  outcome_lease_expires_at: number | null;
  run_id: string | null;
  run_url: string | null;
  run_ended_at: number | null;
  cancelled_runs: string | null;
  redispatches: number | null;
  restore_commit: string | null;
  restore_url: string | null;
  pull_request_url: string | null;
  verified_report_id: string | null;
}

export interface OutcomeHistoryTable {
  id: string;
  event_id: string;
  at: number;
  outcome: Outcome;
  reason: string;
  url: string | null;
}

export interface NotificationsTable {
  id: string;
  event_id: string | null;
  app: string;
  kind: string;
  /** The message as JSON (src/domain/notification.ts); rendered for NOTIFY_FORMAT when sent. */
  message: string;
  status: 'pending' | 'sending' | 'sent';
  attempts: number;
  next_attempt_at: number;
  lease_owner: string | null;
  lease_expires_at: number | null;
  last_error: string | null;
  created_at: number;
  sent_at: number | null;
}

export const OUTCOMES = ['awaiting_run', 'restoring', 'restored', 'verified', 'run_missing', 'restore_failed', 'unverified'] as const;
export type Outcome = (typeof OUTCOMES)[number];
/** Outcomes still being followed; the others are final. */
export const OPEN_OUTCOMES = ['awaiting_run', 'restoring', 'restored'] as const satisfies readonly Outcome[];

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
  /** Why a Degraded report did not roll back, when it did not for a reason of its own. */
  note: string | null;
}

export interface DispatchSlotsTable {
  token_key: string;
  holder: string | null;
  held_until: number | null;
  next_allowed_at: number;
}

export interface AppPausesTable {
  app: string;
  reason: string;
  paused_by: string;
  paused_at: number;
}

export const ADMIN_ACTIONS = ['pause', 'resume', 'replay'] as const;
export type AdminAction = (typeof ADMIN_ACTIONS)[number];

/** Pauses, resumes and replays done by hand, with who and why. */
export interface AdminActionsTable {
  id: string;
  app: string;
  event_id: string | null;
  action: AdminAction;
  actor: string;
  reason: string | null;
  /** 'ui' (the status page) or 'api' (the JSON API). */
  via: 'ui' | 'api';
  at: number;
}

export interface Database {
  dispatch_slots: DispatchSlotsTable;
  events: EventsTable;
  attempts: AttemptsTable;
  health_reports: HealthReportsTable;
  outcome_history: OutcomeHistoryTable;
  notifications: NotificationsTable;
  app_pauses: AppPausesTable;
  admin_actions: AdminActionsTable;
}

export type EventRow = Selectable<EventsTable>;
export type AttemptRow = Selectable<AttemptsTable>;
export type HealthReportRow = Selectable<HealthReportsTable>;
export type OutcomeHistoryRow = Selectable<OutcomeHistoryTable>;
export type NotificationRow = Selectable<NotificationsTable>;
