import { buildDispatchBody, serializeDispatchBody } from '../../src/domain/dispatch-body';
import { checkRevision } from '../../src/domain/revision';
import { DEFAULT_APP, findForbiddenKey, parseRollbackRequest } from '../../src/domain/rollback-request';
import { AppError } from '../../src/errors';

const FAILED = '9f1c2e7d4b8a6f3e0d5c1b9a7e2f4d6c8b0a3e51';
const HEALTHY = '3b7e0c5a9d2f41e8b6c7a1f0e9d8c7b6a5f4e3d2';

describe('checkRevision', () => {
  it.each([
    ['failed', 'abc1234', 'abc1234'],
    ['failed', FAILED.toUpperCase(), FAILED],
    ['failed', 'a'.repeat(64), 'a'.repeat(64)],
    ['target', HEALTHY, HEALTHY],
    ['target', 'b'.repeat(64), 'b'.repeat(64)],
  ] as const)('when a %s revision is %s, then it is accepted as %s', (kind, raw, expected) => {
    expect(checkRevision(raw, kind)).toEqual({ ok: true, value: expected });
  });

  it.each([
    ['failed', 'abc123', /7 to 64/],
    ['failed', 'a'.repeat(65), /7 to 64/],
    ['failed', 'xyz1234', /hex/],
    ['failed', '<no value>', /<no value>/],
    ['failed', 42, /string/],
    ['target', 'abc1234', /40 or 64/],
    ['target', 'a'.repeat(41), /40 or 64/],
    ['target', `${HEALTHY.slice(0, 39)}g`, /hex/],
    ['target', '$(rm -rf /)', /hex/],
  ] as const)('when a %s revision is %p, then it is refused', (kind, raw, reason) => {
    const result = checkRevision(raw, kind);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toMatch(reason);
  });
});

describe('parseRollbackRequest', () => {
  const refused = (body: unknown): string => {
    try {
      parseRollbackRequest(body);
    } catch (error) {
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).code).toBe('INVALID_PAYLOAD');
      return (error as AppError).message;
    }
    throw new Error('expected the body to be refused');
  };

  it('when the seed body arrives, then it becomes a request with lower-case revisions and extras kept', () => {
    const request = parseRollbackRequest({
      event_type: 'argo-degraded',
      client_payload: { failed_revision: FAILED.toUpperCase(), healthy_revision: HEALTHY, app: 'podinfo', ticket: 'OPS-1' },
    });
    expect(request).toEqual({ app: 'podinfo', failedRevision: FAILED, healthyRevision: HEALTHY, eventType: 'argo-degraded', extras: { ticket: 'OPS-1' } });
  });

  it('when no app and no event_type are given, then the defaults apply', () => {
    const request = parseRollbackRequest({ client_payload: { failed_revision: FAILED, healthy_revision: HEALTHY } });
    expect(request.app).toBe(DEFAULT_APP);
    expect(request.eventType).toBeUndefined();
  });

  it.each([
    ['an array', [1, 2], /body: expected a JSON object, got an array/],
    ['a string', 'hello', /got string/],
    ['null', null, /got object/],
    ['no client_payload', { event_type: 'argo-degraded' }, /client_payload: required/],
    ['a client_payload that is not an object', { client_payload: 'x' }, /client_payload: expected an object/],
    ['a health report (shape B)', { app: 'a', status: 'Degraded', revision: FAILED }, /health reports/],
    ['an application state (shape C)', { app: 'a', health: { status: 'Degraded' }, history: [] }, /application state/],
    ['an event_type over 100 characters', { event_type: 'e'.repeat(101), client_payload: { failed_revision: FAILED, healthy_revision: HEALTHY } }, /event_type/],
    ['an empty event_type', { event_type: '', client_payload: { failed_revision: FAILED, healthy_revision: HEALTHY } }, /event_type/],
    ['a missing failed_revision', { client_payload: { healthy_revision: HEALTHY } }, /failed_revision/],
    ['a short healthy_revision', { client_payload: { failed_revision: FAILED, healthy_revision: 'abc1234' } }, /healthy_revision: expected a full commit id/],
    ['<no value> as healthy_revision', { client_payload: { failed_revision: FAILED, healthy_revision: '<no value>' } }, /healthy_revision: got "<no value>"/],
    ['the same revision twice', { client_payload: { failed_revision: HEALTHY.slice(0, 7), healthy_revision: HEALTHY } }, /must differ/],
    ['an app with spaces', { client_payload: { failed_revision: FAILED, healthy_revision: HEALTHY, app: 'my app' } }, /client_payload.app/],
    ['<no value> as app', { client_payload: { failed_revision: FAILED, healthy_revision: HEALTHY, app: '<no value>' } }, /client_payload.app/],
  ])('when the body is %s, then it is refused naming the field', (_name, body, message) => {
    expect(refused(body)).toMatch(message);
  });
});

describe('findForbiddenKey', () => {
  it.each([
    ['{"client_payload":{"__proto__":{"x":1}}}', 'client_payload.__proto__'],
    ['{"a":[{"constructor":{"prototype":{}}}]}', 'a[0].constructor'],
    ['{"a":{"b":{"prototype":1}}}', 'a.b.prototype'],
  ])('when the body is %s, then %s is found', (raw, path) => {
    expect(findForbiddenKey(raw, JSON.parse(raw))).toBe(path);
  });

  it('when the words only appear in values, then nothing is found', () => {
    const raw = '{"note":"__proto__ constructor prototype"}';
    expect(findForbiddenKey(raw, JSON.parse(raw))).toBeUndefined();
  });
});

describe('serializeDispatchBody', () => {
  const base = { eventType: 'argo-degraded', app: 'podinfo', failedRevision: FAILED, healthyRevision: HEALTHY, eventId: 'id-1' };

  it('when extras fit, then the body carries them beside the four fixed keys', () => {
    const body = buildDispatchBody({ ...base, extras: { ticket: 'OPS-1' } });
    expect(JSON.parse(serializeDispatchBody(body))).toEqual({
      event_type: 'argo-degraded',
      client_payload: { ticket: 'OPS-1', failed_revision: FAILED, healthy_revision: HEALTHY, app: 'podinfo', event_id: 'id-1' },
    });
  });

  it('when extras would make 11 top-level keys, then it is refused', () => {
    const extras = Object.fromEntries(Array.from({ length: 7 }, (_, i) => [`k${i}`, i]));
    expect(() => serializeDispatchBody(buildDispatchBody({ ...base, extras }))).toThrow(/at most 10 top-level keys.*11/);
  });

  it('when six extras make exactly 10 keys, then it passes', () => {
    const extras = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`k${i}`, i]));
    expect(() => serializeDispatchBody(buildDispatchBody({ ...base, extras }))).not.toThrow();
  });

  it('when the payload reaches 64 KB, then it is refused', () => {
    expect(() => serializeDispatchBody(buildDispatchBody({ ...base, extras: { blob: 'x'.repeat(65_400) } }))).toThrow(/less than 64 KB/);
  });
});
