import { notificationText, renderNotification, type NotificationMessage } from '../../src/domain/notification';
import { decideSend, type ReceiverAnswer, type SendDecision } from '../../src/notify/notifier';

const message: NotificationMessage = {
  kind: 'restore_failed',
  app: 'podinfo-prod',
  eventId: '01a22924-2c65-72ad-b62c-3a14d7baec82',
  failedRevision: '9f1c2e7d4b8a6f3e0d5c1b9a7e2f4d6c8b0a3e51',
  healthyRevision: '3b7e0c5a9d2f41e8b6c7a1f0e9d8c7b6a5f4e3d2',
  reason: 'workflow run 42 concluded failure',
  link: 'https://github.com/acme/gitops/actions/runs/42',
  at: Date.UTC(2026, 10, 29, 10, 0, 0),
};

describe('notifications', () => {
  it('when rendered for Slack, then one text names the app, what happened, both revisions, the reason, the link and the event', () => {
    expect(JSON.parse(renderNotification(message, 'slack'))).toEqual({
      text: [
        'podinfo-prod: rollback needs a person: the restore failed (9f1c2e7d4b8a → 3b7e0c5a9d2f)',
        'workflow run 42 concluded failure',
        'https://github.com/acme/gitops/actions/runs/42',
        'event 01a22924-2c65-72ad-b62c-3a14d7baec82',
      ].join('\n'),
    });
  });

  it('when rendered as JSON, then every field is there with the same text', () => {
    expect(JSON.parse(renderNotification(message, 'json'))).toEqual({
      kind: 'restore_failed',
      title: 'rollback needs a person: the restore failed',
      app: 'podinfo-prod',
      event_id: message.eventId,
      failed_revision: message.failedRevision,
      healthy_revision: message.healthyRevision,
      reason: message.reason,
      link: message.link,
      at: '2026-11-29T10:00:00.000Z',
      text: notificationText(message),
    });
  });

  it('when a message has no target, no link and no event (a long-healthy revision), then the text leaves them out', () => {
    expect(notificationText({ ...message, kind: 'not_a_deploy', healthyRevision: null, link: null, eventId: null, reason: 'r' })).toBe(
      'podinfo-prod: Degraded, not rolled back: the revision was long healthy (9f1c2e7d4b8a)\nr',
    );
  });
});

describe('decideSend: one send to the receiver', () => {
  const response = (status: number, location?: string): ReceiverAnswer => ({ kind: 'response', status, location });
  it.each<[string, ReceiverAnswer, number, SendDecision]>([
    ['200', response(200), 1, { status: 'sent' }],
    ['204 on the last allowed attempt', response(204), 20, { status: 'sent' }],
    ['503, early', response(503), 3, { status: 'retry', error: 'the receiver answered 503' }],
    ['429', response(429), 1, { status: 'retry', error: 'the receiver answered 429' }],
    ['408', response(408), 1, { status: 'retry', error: 'the receiver answered 408' }],
    ['no answer', { kind: 'transport', code: 'ECONNREFUSED' }, 1, { status: 'retry', error: 'no answer from the receiver (ECONNREFUSED)' }],
    ['503 on the last allowed attempt', response(503), 20, { status: 'failed', error: 'the receiver answered 503; gave up after 20 attempts (NOTIFY_MAX_ATTEMPTS)' }],
    ['no answer on the last allowed attempt', { kind: 'transport', code: 'ETIMEDOUT' }, 20, { status: 'failed', error: 'no answer from the receiver (ETIMEDOUT); gave up after 20 attempts (NOTIFY_MAX_ATTEMPTS)' }],
    ['400 (a body it rejects)', response(400), 1, { status: 'failed', error: 'the receiver answered 400' }],
    ['404 (a revoked webhook)', response(404), 1, { status: 'failed', error: 'the receiver answered 404' }],
    [
      '301 with a Location (its path, a credential, not named)',
      response(301, 'https://hooks.example.com/services/T0/B0/not-to-be-logged'),
      1,
      { status: 'failed', error: 'the receiver answered 301, redirecting to https://hooks.example.com; redirects are not followed: set NOTIFY_URL to the address it redirects to' },
    ],
    ['302 without a Location', response(302), 1, { status: 'failed', error: 'the receiver answered 302, redirecting to no Location; redirects are not followed: set NOTIFY_URL to the address it redirects to' }],
  ])('when %s, then %o', (_name, answer, attempt, expected) => {
    expect(decideSend(answer, attempt, 20)).toEqual(expected);
  });
});
