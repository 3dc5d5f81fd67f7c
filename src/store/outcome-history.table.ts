import type { Selectable } from 'kysely';
import type { Outcome } from '../domain/rollback-event';

export interface OutcomeHistoryTable {
  id: string;
  event_id: string;
  at: number;
  outcome: Outcome;
  reason: string;
  url: string | null;
}

export type OutcomeHistoryRow = Selectable<OutcomeHistoryTable>;
