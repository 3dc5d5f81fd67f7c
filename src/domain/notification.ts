/** What people are told, and how it is rendered for NOTIFY_FORMAT. Pure. */

export const NOTIFICATION_KINDS = ['dispatched', 'verified', 'run_missing', 'restore_failed', 'unverified', 'delivery_failed', 'suppressed', 'not_a_deploy', 'not_restorable', 'no_target', 'not_deployed'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

export interface NotificationMessage {
  kind: NotificationKind;
  app: string;
  eventId: string | null;
  failedRevision: string;
  healthyRevision: string | null;
  reason: string;
  /** The run, commit or pull request a person should open. */
  link: string | null;
  at: number;
}

const TITLES: Record<NotificationKind, string> = {
  dispatched: 'rollback dispatched to GitHub',
  verified: 'rollback verified: Healthy again',
  run_missing: 'rollback needs a person: no workflow run',
  restore_failed: 'rollback needs a person: the restore failed',
  unverified: 'rollback needs a person: not verified healthy',
  delivery_failed: 'rollback needs a person: GitHub refused the dispatch',
  suppressed: 'rollback needs a person: refused by the loop guard',
  not_a_deploy: 'Degraded, not rolled back: the revision was long healthy',
  not_restorable: 'rollback needs a person: nothing in git can undo this',
  no_target: 'rollback needs a person: no healthy revision to go back to',
  not_deployed: 'rollback needs a person: Argo CD never deployed this app',
};

/** One line a person can read at 3 a.m.: app, what happened, both revisions, why, where to look. */
export function notificationText(m: NotificationMessage): string {
  const revisions = m.healthyRevision ? `${m.failedRevision.slice(0, 12)} → ${m.healthyRevision.slice(0, 12)}` : m.failedRevision.slice(0, 12);
  return [`${m.app}: ${TITLES[m.kind]} (${revisions})`, m.reason, m.link ?? undefined, m.eventId ? `event ${m.eventId}` : undefined].filter(Boolean).join('\n');
}

/** The HTTP body: Slack-compatible {"text"}, or the message itself as JSON. */
export function renderNotification(m: NotificationMessage, format: 'slack' | 'json'): string {
  if (format === 'slack') return JSON.stringify({ text: notificationText(m) });
  return JSON.stringify({
    kind: m.kind,
    title: TITLES[m.kind],
    app: m.app,
    event_id: m.eventId,
    failed_revision: m.failedRevision,
    healthy_revision: m.healthyRevision,
    reason: m.reason,
    link: m.link,
    at: new Date(m.at).toISOString(),
    text: notificationText(m),
  });
}
