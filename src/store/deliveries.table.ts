import type { Selectable } from 'kysely';
import type { LeasedWorkColumns } from './leased-work.table';

export const DELIVERY_STATES = ['queued', 'retrying', 'delivered', 'failed', 'dry_run'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

/**
 * One delivery of an event to GitHub: created with the event (or by a replay, or by a re-dispatch of a
 * cancelled run), owned by the delivery worker until it is delivered, failed or dry_run. At most one
 * delivery of an event is open at a time: each has the next `seq` of its event, unique, taken only when
 * the previous one is finished.
 */
export interface DeliveriesTable extends LeasedWorkColumns {
  id: string;
  event_id: string;
  seq: number;
  state: DeliveryState;
  /** Attempts of this delivery. */
  attempts: number;
  /** Failures that count toward DELIVERY_MAX_ATTEMPTS (rate-limit waits do not). */
  transient_failures: number;
  last_error: string | null;
  /** A re-dispatch: the follow-up it continues once delivered (its counts carry over). */
  continues_follow_id: string | null;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
}

export type DeliveryRow = Selectable<DeliveriesTable>;
