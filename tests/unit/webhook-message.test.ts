import { buildDispatchBody, serializeDispatchBody, withDispatchId } from '../../src/domain/dispatch-body';
import { checkRevision } from '../../src/domain/revision';
import { DEFAULT_APP, inspectJson, parseWebhookMessage } from '../../src/domain/webhook-message';
// Fixtures are untyped JSON reshaped the way Argo CD would.
/* eslint-disable @typescript-eslint/no-explicit-any */
import { REV_7, REV_8, REV_9, firstDeploy, healthyAt, multiSource, neverSynced, singleSource, syncState, toStateBody, v3AppTree, type Application } from '../support/argocd-fixtures';
import { InvalidPayloadError } from '../../src/domain/invalid-payload';
import { toAppError } from '../../src/http/middleware/error-handler';

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

describe('parseWebhookMessage', () => {
  const refused = (body: unknown, sourceIndex?: number): string => {
    try {
      parseWebhookMessage(body, () => sourceIndex);
    } catch (error) {
      // A domain error; the HTTP layer answers it as the catalogue's INVALID_PAYLOAD.
      expect(error).toBeInstanceOf(InvalidPayloadError);
      expect(toAppError(error)).toMatchObject({ code: 'INVALID_PAYLOAD', status: 422, message: (error as Error).message });
      return (error as Error).message;
    }
    throw new Error('expected the body to be refused');
  };

  describe('shape A (seed contract)', () => {
    it('when the seed body arrives, then it is a rollback request with lower-case revisions and extras kept', () => {
      const message = parseWebhookMessage({
        event_type: 'argo-degraded',
        client_payload: { failed_revision: FAILED.toUpperCase(), healthy_revision: HEALTHY, app: 'podinfo', ticket: 'OPS-1' },
      });
      expect(message).toEqual({ kind: 'rollback', shape: 'A', app: 'podinfo', failedRevision: FAILED, requestedTarget: HEALTHY, eventType: 'argo-degraded', extras: { ticket: 'OPS-1' } });
    });

    it('when no app, event_type or healthy_revision is given, then the defaults apply and the policy picks the target', () => {
      expect(parseWebhookMessage({ client_payload: { failed_revision: FAILED } })).toEqual({
        kind: 'rollback', shape: 'A', app: DEFAULT_APP, failedRevision: FAILED, requestedTarget: undefined, eventType: undefined, extras: {},
      });
    });
  });

  describe('shape B (health report)', () => {
    it.each([
      ['Healthy', { kind: 'health', shape: 'B', app: 'podinfo', status: 'Healthy', revision: HEALTHY }],
      ['Progressing', { kind: 'health', shape: 'B', app: 'podinfo', status: 'Progressing', revision: HEALTHY }],
      ['Suspended', { kind: 'health', shape: 'B', app: 'podinfo', status: 'Suspended', revision: HEALTHY }],
      ['Missing', { kind: 'health', shape: 'B', app: 'podinfo', status: 'Missing', revision: HEALTHY }],
      ['Unknown', { kind: 'health', shape: 'B', app: 'podinfo', status: 'Unknown', revision: HEALTHY }],
      ['Degraded', { kind: 'rollback', shape: 'B', app: 'podinfo', failedRevision: HEALTHY, extras: {} }],
    ])('when the status is %s, then %o', (status, expected) => {
      expect(parseWebhookMessage({ app: 'podinfo', status, revision: HEALTHY.toUpperCase() })).toEqual(expected);
    });

    it('when a Healthy report carries an abbreviated revision, then it is refused: ledger entries become targets', () => {
      expect(refused({ app: 'podinfo', status: 'Healthy', revision: 'abc1234' })).toMatch(/^revision: expected a full commit id/);
    });

    it('when the status is not an Argo CD health status, then it is refused naming the choices', () => {
      expect(refused({ app: 'podinfo', status: 'Broken', revision: HEALTHY })).toMatch(/^status: expected one of Healthy, Progressing/);
    });
  });

  describe('shape C (Argo CD application state, as the shipped template sends it)', () => {
    it('when the single-source fixture is Degraded, then the failed revision is syncResult.revision and history comes along', () => {
      expect(parseWebhookMessage(toStateBody(singleSource()))).toEqual({
        kind: 'rollback',
        shape: 'C',
        app: 'podinfo-prod',
        failedRevision: REV_9,
        extras: {},
        history: [
          { id: 7, revision: REV_7, revisions: [REV_7] },
          { id: 8, revision: REV_8, revisions: [REV_8] },
          { id: 9, revision: REV_9, revisions: [REV_9] },
        ],
        sources: [{ repoURL: 'https://github.com/acme/gitops.git', path: 'charts/podinfo', targetRevision: 'main', chart: '', ref: '', valueFiles: ['values-prod.yaml'], type: 'Helm' }],
        sourceIndex: 0,
        failedRevisions: [REV_9],
      });
    });

    it('when sync.revision moved ahead of what was deployed, then syncResult.revision still wins', () => {
      const app = singleSource();
      app.status.sync.revision = 'ffffffffffffffffffffffffffffffffffffffff';
      expect(parseWebhookMessage(toStateBody(app))).toMatchObject({ failedRevision: REV_9 });
    });

    it('when there is no operationState, then the newest history entry (what Argo CD deployed) is blamed, not sync.revision', () => {
      const body = { ...toStateBody(singleSource()), operationState: null, sync: { status: 'OutOfSync', revision: 'ffffffffffffffffffffffffffffffffffffffff', revisions: [] } };
      expect(parseWebhookMessage(body)).toMatchObject({ failedRevision: REV_9 });
    });

    it('when the app is multi-source, then the first Git source is used (the Helm repository carries chart)', () => {
      expect(parseWebhookMessage(toStateBody(multiSource()))).toMatchObject({
        failedRevision: REV_9,
        history: [
          { id: 7, revision: REV_7 },
          { id: 8, revision: REV_8 },
          { id: 9, revision: REV_9 },
        ],
      });
    });

    it("when a route sets source_index, then that source's revision is used", () => {
      // Index 0 is the chart version, not a commit: the route is wrong and the body is refused by name.
      expect(refused(toStateBody(multiSource()), 0)).toMatch(/operationState.syncResult.revision.*hex/);
    });

    it('when the Argo CD 3 appTree fixture (no per-resource health) arrives, then it parses the same', () => {
      expect(parseWebhookMessage(toStateBody(v3AppTree()))).toMatchObject({ kind: 'rollback', failedRevision: REV_9 });
    });

    it('when a first deploy has no history, then history is empty (the template renders [])', () => {
      const message = parseWebhookMessage(toStateBody(firstDeploy()));
      expect(message).toMatchObject({ kind: 'rollback', failedRevision: REV_9, history: [] });
    });

    it('when a first deploy arrives as a whole Application without history, then history is undefined', () => {
      const message = parseWebhookMessage(firstDeploy());
      expect(message).toMatchObject({ kind: 'rollback', failedRevision: REV_9 });
      expect(message.kind === 'rollback' && message.history).toBeUndefined();
    });

    it.each([
      ['the template body', () => toStateBody(neverSynced())],
      ['a whole Application', () => neverSynced()],
    ])('when a Degraded app was never synced (%s), then it is not_deployed, not a rollback of what Git has', (_name, build) => {
      expect(parseWebhookMessage(build())).toEqual({ kind: 'not_deployed', shape: 'C', app: 'podinfo-prod', reason: expect.stringMatching(/^Argo CD never synced this app/) });
    });

    it('when a never-synced app is Healthy, then nothing is recorded: sync.revision is only what Git has', () => {
      const app = neverSynced();
      app.status.health = { status: 'Healthy', lastTransitionTime: '2025-06-03T10:27:41Z' };
      expect(parseWebhookMessage(toStateBody(app))).toEqual({
        kind: 'health_not_recorded',
        shape: 'C',
        app: 'podinfo-prod',
        status: 'Healthy',
        reason: expect.stringMatching(/^the body names no revision Argo CD deployed .*sync\.revision 9f1c2e7/),
      });
    });

    it('when a multi-source app changes only its chart version, then the Git source is still the failed revision', () => {
      const app = multiSource() as Record<string, any>;
      app.status.operationState.syncResult.revisions = ['6.9.1', REV_9];
      expect(parseWebhookMessage(toStateBody(app as Application))).toMatchObject({ kind: 'rollback', failedRevision: REV_9 });
    });

    it('when the state is Healthy, then it is a health report for the synced revision', () => {
      expect(parseWebhookMessage(toStateBody(healthyAt(REV_8)))).toEqual({ kind: 'health', shape: 'C', app: 'podinfo-prod', status: 'Healthy', revision: REV_8 });
    });

    it('when a whole Application object is sent (toJson .app), then it is read the same way', () => {
      expect(parseWebhookMessage(singleSource())).toMatchObject({ kind: 'rollback', shape: 'C', app: 'podinfo-prod', failedRevision: REV_9 });
    });
  });

  it.each([
    ['an array', [1, 2], /body: expected a JSON object, got an array/],
    ['a string', 'hello', /got string/],
    ['null', null, /got null/],
    ['none of the shapes', { event_type: 'argo-degraded' }, /^body: expected \{event_type, client_payload/],
    ['a client_payload that is not an object', { client_payload: 'x' }, /client_payload: expected an object/],
    ['an event_type over 100 characters', { event_type: 'e'.repeat(101), client_payload: { failed_revision: FAILED } }, /event_type/],
    ['an empty event_type', { event_type: '', client_payload: { failed_revision: FAILED } }, /event_type/],
    ['a missing failed_revision', { client_payload: { healthy_revision: HEALTHY } }, /failed_revision/],
    ['a short healthy_revision', { client_payload: { failed_revision: FAILED, healthy_revision: 'abc1234' } }, /healthy_revision: expected a full commit id/],
    ['<no value> as healthy_revision', { client_payload: { failed_revision: FAILED, healthy_revision: '<no value>' } }, /healthy_revision: got "<no value>"/],
    ['the same revision twice', { client_payload: { failed_revision: HEALTHY.slice(0, 7), healthy_revision: HEALTHY } }, /must differ/],
    ['an app with spaces', { client_payload: { failed_revision: FAILED, app: 'my app' } }, /client_payload.app/],
    ['<no value> as app', { client_payload: { failed_revision: FAILED, app: '<no value>' } }, /client_payload.app/],
    ['a shape-B report without app', { status: 'Healthy', revision: HEALTHY }, /^app:/],
    ['a shape-C state without health', { app: 'a', sync: { revision: FAILED } }, /^health: expected an object/],
    ['a Healthy shape-C state with no revision anywhere', { app: 'a', health: { status: 'Healthy' }, sync: {}, operationState: null }, /required: no synced revision/],
    ['a shape-C state whose synced revision is <no value>', { app: 'a', health: { status: 'Degraded' }, operationState: { syncResult: { revision: '<no value>' } } }, /<no value>/],
    ['a shape-C history that is not an array', { app: 'a', health: { status: 'Degraded' }, sync: { revision: FAILED }, history: {} }, /^history: expected an array/],
  ])('when the body is %s, then it is refused naming the field', (_name, body, message) => {
    expect(refused(body)).toMatch(message);
  });
});

describe('inspectJson', () => {
  it.each([
    ['{"client_payload":{"__proto__":{"x":1}}}', { forbidden: 'client_payload.__proto__' }],
    ['{"a":[{"constructor":{"prototype":{}}}]}', { forbidden: 'a[0].constructor' }],
    ['{"a":{"b":{"prototype":1}}}', { forbidden: 'a.b.prototype' }],
    // Escaped in the JSON text, plain once parsed: the raw text never shows the word.
    ['{"client_payload":{"c\\u006fnstructor":{"x":1}}}', { forbidden: 'client_payload.constructor' }],
    ['{"\\u005f_proto__":{"polluted":true}}', { forbidden: '__proto__' }],
    ['{"note":"__proto__ constructor prototype"}', undefined],
    [`${'['.repeat(31)}1${']'.repeat(31)}`, undefined],
    [`${'['.repeat(40)}1${']'.repeat(40)}`, { tooDeep: expect.stringMatching(/^\[0\]/) }],
  ])('when the body is %s, then %o', (raw, expected) => {
    expect(inspectJson(JSON.parse(raw))).toEqual(expected);
  });

  it('when a 12 KB body nests arrays 4,800 deep with constructor inside, then it is refused as too deep without overflowing the stack', () => {
    const raw = `${'['.repeat(4800)}{"constructor":1}${']'.repeat(4800)}`;
    expect(inspectJson(JSON.parse(raw))).toEqual({ tooDeep: expect.any(String) });
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

  it('when extras would make 11 top-level keys once dispatch_id joins, then it is refused', () => {
    const extras = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`k${i}`, i]));
    expect(() => serializeDispatchBody(buildDispatchBody({ ...base, extras }))).toThrow(/at most 10 top-level keys; with failed_revision, healthy_revision, app, event_id and dispatch_id this one would have 11/);
  });

  it('when five extras make exactly 10 keys with dispatch_id, then it passes, and the sent body has them all', () => {
    const extras = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`k${i}`, i]));
    const sent = JSON.parse(withDispatchId(serializeDispatchBody(buildDispatchBody({ ...base, extras })), '01a2290a-7000-7000-8000-000000000001')) as { client_payload: Record<string, unknown> };
    expect(Object.keys(sent.client_payload)).toHaveLength(10);
    expect(sent.client_payload.dispatch_id).toBe('01a2290a-7000-7000-8000-000000000001');
  });

  it('when the payload reaches 64 KB, then it is refused', () => {
    expect(() => serializeDispatchBody(buildDispatchBody({ ...base, extras: { blob: 'x'.repeat(65_400) } }))).toThrow(/less than 64 KB/);
  });
});

/**
 * Issue 39: which revision a shape-C state vouches for (Healthy and the other non-Degraded states) or
 * blames (Degraded), over the states an Application passes through while Argo CD syncs a new revision F
 * = REV_9 over the deployed H = REV_8. Each state as a whole Application (what `toJson .app` sends) and
 * as the shipped template's body (which carries no operationState.operation).
 */
describe('parseWebhookMessage: the revision Argo CD runs', () => {
  const H = REV_8;
  const F = REV_9;
  const state = syncState;
  const running = { phase: 'Running', message: 'Retrying attempt #1 at 10:17AM: one or more objects failed to apply, reason: admission webhook denied the request' };
  const failed = { phase: 'Failed', message: 'one or more objects failed to apply (dry run): error validating data' };
  const recorded = (revision: string) => ({ kind: 'health', status: 'Healthy', revision });
  const notRecorded = (reason: RegExp) => ({ kind: 'health_not_recorded', status: 'Healthy', reason: expect.stringMatching(reason) });
  const blames = (failedRevision: string) => ({ kind: 'rollback', failedRevision });

  it.each([
    ['Healthy after the sync of H succeeded', () => state('Healthy', { phase: 'Succeeded', syncResult: H, requested: H }), recorded(H), recorded(H)],
    ['Healthy on H while the sync of F runs, retrying', () => state('Healthy', running), notRecorded(/sync of 9f1c2e7\w+ is Running/), notRecorded(/is Running/)],
    ['Healthy on H after the sync of F failed', () => state('Healthy', failed), notRecorded(/sync of 9f1c2e7\w+ is Failed/), notRecorded(/is Failed/)],
    ['Healthy on H after the sync of F ended in an error', () => state('Healthy', { phase: 'Error', message: 'ComparisonError' }), notRecorded(/is Error/), notRecorded(/is Error/)],
    ['Healthy while a sync of F runs that has no result yet', () => state('Healthy', { ...running, syncResult: null }), notRecorded(/sync of 9f1c2e7\w+ is Running/), notRecorded(/sync is Running/)],
    ['Healthy with no operation on record (history ends at H)', () => state('Healthy', null), recorded(H), recorded(H)],
    ['Healthy, multi-source, after the sync of H succeeded', () => state('Healthy', { phase: 'Succeeded', syncResult: ['6.9.0', H], requested: ['6.9.0', H] }, { multi: true }), recorded(H), recorded(H)],
    ['Healthy, multi-source, while the sync of F runs', () => state('Healthy', running, { multi: true }), notRecorded(/is Running/), notRecorded(/is Running/)],
    ['Healthy while the first sync (of F) never finished', () => state('Healthy', { ...running, syncResult: null }, { history: false }), notRecorded(/is Running/), notRecorded(/is Running/)],
    ['Degraded while the sync of F runs', () => state('Degraded', running), blames(F), blames(F)],
    ['Degraded after the sync of F failed', () => state('Degraded', failed), blames(F), blames(F)],
    ['Degraded after a failed sync of F with no result', () => state('Degraded', { ...failed, syncResult: null }), blames(F), blames(F)],
    ['Degraded on H with no sync pending (Git moved on to F)', () => state('Degraded', { phase: 'Succeeded', syncResult: H, requested: H }), blames(H), blames(H)],
    ['Degraded with no operation on record (history ends at H)', () => state('Degraded', null), blames(H), blames(H)],
    ['Degraded, multi-source, after the sync of F failed', () => state('Degraded', failed, { multi: true }), blames(F), blames(F)],
    ['Degraded while the first sync (of F) runs', () => state('Degraded', running, { history: false }), blames(F), blames(F)],
  ])('%s', (_name, build, asApplication, asTemplate) => {
    expect(parseWebhookMessage(build())).toMatchObject(asApplication);
    expect(parseWebhookMessage(toStateBody(build()))).toMatchObject(asTemplate);
  });

  it('a Degraded report during a failed sync of F names F in every source it blames (multi-source), never H', () => {
    const message = parseWebhookMessage(state('Degraded', failed, { multi: true }));
    expect(message).toMatchObject({ kind: 'rollback', failedRevisions: ['6.9.0', F] });
  });
});
