import type { AdminAction } from '../domain/admin-action';

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
