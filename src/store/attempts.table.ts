import type { Selectable } from 'kysely';
import type { AttemptOutcome } from '../domain/rollback-event';

/** Every request a delivery sent to GitHub; `attempt` numbers an event's attempts across its deliveries. */
export interface AttemptsTable {
  event_id: string;
  delivery_id: string | null;
  attempt: number;
  started_at: number;
  finished_at: number;
  status_code: number | null;
  outcome: AttemptOutcome;
  error: string | null;
  next_attempt_at: number | null;
}

export type AttemptRow = Selectable<AttemptsTable>;
