import type { Selectable } from 'kysely';

export interface HealthReportsTable {
  id: string;
  app: string;
  revision: string;
  /** Argo CD health status; rollback requests are recorded as Degraded; refusals as Refused. */
  status: string;
  /** refusal: a Degraded report that must not count against its revision (see recordRefusal). */
  source: 'health_report' | 'rollback_request' | 'refusal';
  event_id: string | null;
  reported_at: number;
  /** Why a Degraded report did not roll back, when it did not for a reason of its own. */
  note: string | null;
}

export type HealthReportRow = Selectable<HealthReportsTable>;
