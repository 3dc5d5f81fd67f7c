import type { AdminActionsTable } from './admin-actions.table';
import type { AppPausesTable } from './app-pauses.table';
import type { AppsTable } from './apps.table';
import type { AttemptsTable } from './attempts.table';
import type { DeliveriesTable } from './deliveries.table';
import type { DispatchSlotsTable } from './dispatch-slots.table';
import type { EventsTable } from './events.table';
import type { HealthReportsTable } from './health-reports.table';
import type { NotificationsTable } from './notifications.table';
import type { OutcomeFollowsTable } from './outcome-follows.table';
import type { OutcomeHistoryTable } from './outcome-history.table';
import type { RevisionStatesTable } from './revision-states.table';
import type { StoreProbeTable } from './store-probe.table';
import type { ToldOnceTable } from './told-once.table';
import type { UiSessionsTable } from './ui-sessions.table';

/** Every table, as Kysely sees it (one *.table.ts each). */
export interface Database {
  events: EventsTable;
  deliveries: DeliveriesTable;
  attempts: AttemptsTable;
  outcome_follows: OutcomeFollowsTable;
  outcome_history: OutcomeHistoryTable;
  notifications: NotificationsTable;
  dispatch_slots: DispatchSlotsTable;
  health_reports: HealthReportsTable;
  revision_states: RevisionStatesTable;
  app_pauses: AppPausesTable;
  apps: AppsTable;
  admin_actions: AdminActionsTable;
  ui_sessions: UiSessionsTable;
  told_once: ToldOnceTable;
  store_probe: StoreProbeTable;
}
