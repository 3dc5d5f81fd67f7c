import type { Selectable } from 'kysely';
import type { LeasedWorkColumns } from './leased-work.table';

export const NOTIFICATION_STATES = ['pending', 'sent', 'failed'] as const;
export type NotificationState = (typeof NOTIFICATION_STATES)[number];

/** The outbox: written in the transaction that makes the news, sent by the notifier (its owner). */
export interface NotificationsTable extends LeasedWorkColumns {
  id: string;
  event_id: string | null;
  app: string;
  kind: string;
  /** The message as JSON (src/domain/notification.ts); rendered for NOTIFY_FORMAT when sent. */
  message: string;
  /** pending until the receiver took it (sent) or refused it for good (failed, with last_error). */
  status: NotificationState;
  attempts: number;
  last_error: string | null;
  created_at: number;
  sent_at: number | null;
}

export type NotificationRow = Selectable<NotificationsTable>;
