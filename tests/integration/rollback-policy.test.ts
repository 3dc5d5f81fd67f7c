import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { findEvent, listEvents } from '../../src/store/events.repository';
import { listReports } from '../../src/store/reports.repository';
import { healthyLedger, knownFailedReports } from '../../src/domain/rollback-policy';
// Fixtures are untyped JSON reshaped the way Argo CD would.
/* eslint-disable @typescript-eslint/no-explicit-any */
import { REV_7, REV_8, REV_9, firstDeploy, healthyAt, multiSource, neverSynced, singleSource, syncState, toStateBody, v3AppTree, type Application } from '../support/argocd-fixtures';
import { DIALECTS } from '../support/dialects';
import { ADMIN_TOKEN, WEBHOOK_TOKEN, createHarness, createManualClock, failedRevision, type Harness, type HarnessOptions } from '../support/harness';

const auth = { Authorization: `Bearer ${WEBHOOK_TOKEN}` };
const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe.each(DIALECTS)('rollback policy through the webhook on %s', (_dialect, createDatabase) => {
  let h: Harness;
  const start = async (options: HarnessOptions = {}) => {
    h = await createHarness({ ...options, database: await createDatabase() });
  };
  afterEach(async () => {
    expect(h.github.received.flatMap((r) => r.schemaErrors)).toEqual([]);
    await h.close();
  });

  const post = (body: unknown) => request(h.app).post('/v1/webhooks/argocd').set(auth).send(body as object);
  const report = (app: string, status: string, revision: string) => post({ app, status, revision });
  const events = () => listEvents(h.store.db, { limit: 500 });

  describe('shape B: health reports', () => {
    it('when an app reports Healthy, then the revision is recorded and nothing is sent', async () => {
      await start({ worker: false });
      const res = await report('podinfo-prod', 'Healthy', REV_8);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ status: 'recorded', app: 'podinfo-prod', health: 'Healthy', revision: REV_8 });
      const app = await request(h.app).get('/v1/apps/podinfo-prod').set(admin);
      expect(app.body.ledger).toEqual([{ revision: REV_8, recorded_at: expect.any(String), known_failed: false }]);
      expect(await events()).toEqual([]);
    });

    it.each(['Progressing', 'Suspended', 'Missing', 'Unknown'])('when an app reports %s, then it is recorded without a rollback', async (status) => {
      await start({ worker: false });
      const res = await report('podinfo-prod', status, REV_8);
      expect(res.status).toBe(200);
      expect(res.body.status).toBe('recorded');
      expect(await events()).toEqual([]);
    });

    it('when an app reports Degraded after a Healthy report, then it rolls back to the ledger revision', async () => {
      await start();
      await report('podinfo-prod', 'Healthy', REV_8);
      const res = await report('podinfo-prod', 'Degraded', REV_9);
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ failed_revision: REV_9, healthy_revision: REV_8, target_reason: expect.stringMatching(/^from ledger, recorded 20/) });
      await h.waitForStatus(res.body.id as string, 'delivered');
      expect(h.github.accepted().map((r) => r.body?.client_payload)).toEqual([
        { app: 'podinfo-prod', failed_revision: REV_9, healthy_revision: REV_8, event_id: res.body.id, dispatch_id: expect.stringMatching(UUID) },
      ]);
    });

    it('when an app reports Degraded and nothing healthy is known, then 422 NO_HEALTHY_REVISION names what was looked at and nothing is sent', async () => {
      await start();
      const res = await report('podinfo-prod', 'Degraded', REV_9);
      expect(res.status).toBe(422);
      expect(res.body.error).toEqual({
        code: 'NO_HEALTHY_REVISION',
        message: `no healthy revision to roll back to from ${REV_9}: the payload named no healthy_revision; the ledger has 0 healthy revisions; the body carried no history`,
      });
      expect(await events()).toEqual([]);
      expect(h.github.received).toEqual([]);
    });
  });

  describe('shape C: Argo CD application state (fixtures from the shared Application)', () => {
    // The paths come from the Application: the Helm source's value file (and Image Updater's write-back
    // file); for the multi-source fixture, the $values file its chart reads from the GitOps repository.
    const SINGLE = 'charts/podinfo/values-prod.yaml\ncharts/podinfo/.argocd-source-podinfo-prod.yaml';
    it.each([
      ['single source', singleSource, SINGLE],
      ['multi-source with revisions[]', multiSource, 'charts/podinfo/values-prod.yaml'],
      ['Argo CD 3 appTree without per-resource health', v3AppTree, SINGLE],
    ])('when a %s app goes Degraded with an empty ledger, then the target is the newest earlier history entry', async (_name, fixture, paths) => {
      await start();
      const res = await post(toStateBody(fixture()));
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ app: 'podinfo-prod', failed_revision: REV_9, healthy_revision: REV_8, target_reason: 'from history id 8' });
      await h.waitForStatus(res.body.id as string, 'delivered');
      const stored = await request(h.app).get(`/v1/events/${res.body.id}`).set(admin);
      expect(stored.body).toMatchObject({ status: 'delivered', healthy_revision: REV_8, target_reason: 'from history id 8' });
      expect(h.github.accepted()).toHaveLength(1);
      expect(h.github.accepted()[0]!.body).toEqual({
        event_type: 'argo-degraded',
        client_payload: { app: 'podinfo-prod', failed_revision: REV_9, healthy_revision: REV_8, event_id: res.body.id, dispatch_id: expect.stringMatching(UUID), restore_paths: paths },
      });
    });

    it('when a first deploy with no history goes Degraded, then 422 NO_HEALTHY_REVISION and nothing is sent', async () => {
      await start();
      const res = await post(toStateBody(firstDeploy()));
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe('NO_HEALTHY_REVISION');
      expect(res.body.error.message).toMatch(/history has 0 entries/);
      expect(h.github.received).toEqual([]);
    });

    it('when a Healthy state fed the ledger, then a later Degraded state rolls back to it even if history says otherwise', async () => {
      await start({ worker: false });
      expect((await post(toStateBody(healthyAt(REV_7)))).body).toMatchObject({ status: 'recorded', revision: REV_7 });
      const res = await post(toStateBody(singleSource()));
      expect(res.body).toMatchObject({ healthy_revision: REV_7, target_reason: expect.stringMatching(/^from ledger/) });
    });

    it('when the history target was itself reported Degraded, then the one before it is chosen', async () => {
      await start({ worker: false });
      await report('podinfo-prod', 'Healthy', REV_8);
      await report('podinfo-prod', 'Degraded', REV_8);
      const res = await post(toStateBody(singleSource()));
      expect(res.body).toMatchObject({ healthy_revision: REV_7, target_reason: 'from history id 7' });
    });
  });

  describe('a Healthy report vouches only for the revision Argo CD runs (issue 39)', () => {
    const running = { phase: 'Running', message: 'Retrying attempt #1 at 10:17AM: one or more objects failed to apply' };
    const failed = { phase: 'Failed', message: 'one or more objects failed to apply (dry run)' };
    const G = 'c0ffee00000000000000000000000000000000a1';

    it.each([
      ['a whole Application', (app: Application) => app as unknown],
      ['the shipped template body', (app: Application) => toStateBody(app) as unknown],
    ])('when Healthy reports (%s) arrive while a sync of F runs, retries and fails, then only H joins the ledger, and a later Degraded revision rolls back to H', async (_shape, as) => {
      await start({ worker: false });
      const deployed = await post(as(syncState('Healthy', { phase: 'Succeeded', syncResult: REV_8, requested: REV_8 })));
      expect(deployed.body).toEqual({ status: 'recorded', app: 'podinfo-prod', health: 'Healthy', revision: REV_8 });
      for (const [op, phase] of [
        [running, 'Running'],
        [failed, 'Failed'],
      ] as const) {
        const res = await post(as(syncState('Healthy', op)));
        expect(res.status).toBe(200);
        expect(res.body).toEqual({ status: 'not_recorded', app: 'podinfo-prod', health: 'Healthy', message: expect.stringContaining(`is ${phase}: the report cannot tell which revision runs`) });
        expect(h.logs.entries).toContainEqual(expect.objectContaining({ app: 'podinfo-prod', health: 'Healthy', msg: expect.stringMatching(new RegExp(`^Healthy, not recorded: Argo CD's sync.* is ${phase}`)) }));
      }
      const ledger = await request(h.app).get('/v1/apps/podinfo-prod').set(admin);
      expect((ledger.body as { ledger: Array<{ revision: string }> }).ledger.map((r) => r.revision)).toEqual([REV_8]);
      expect((await listReports(h.store.db, 'podinfo-prod')).map((r) => [r.status, r.revision])).toEqual([['Healthy', REV_8]]);

      // G is deployed and degrades: the target is H, never F (which never ran).
      const degraded = await post(as(syncState('Degraded', { phase: 'Succeeded', syncResult: G, requested: G })));
      expect(degraded.status).toBe(202);
      expect(degraded.body).toMatchObject({ failed_revision: G, healthy_revision: REV_8 });
    });

    it('when the app goes Degraded while the sync of F fails, then F is blamed and H is never marked failed', async () => {
      await start({ worker: false });
      await post(syncState('Healthy', { phase: 'Succeeded', syncResult: REV_8, requested: REV_8 }));
      const res = await post(syncState('Degraded', failed));
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ failed_revision: REV_9, healthy_revision: REV_8 });
      const reports = await listReports(h.store.db, 'podinfo-prod');
      expect(reports.map((r) => [r.status, r.revision])).toEqual([
        ['Degraded', REV_9],
        ['Healthy', REV_8],
      ]);
      expect(knownFailedReports(reports).map((r) => r.revision)).toEqual([REV_9]);
    });
  });

  describe('idempotency', () => {
    it('when the same Degraded state arrives twice, before and after delivery, then one event and one dispatch', async () => {
      await start();
      const first = await post(toStateBody(singleSource()));
      expect(first.status).toBe(202);
      const again = await post(toStateBody(singleSource()));
      expect(again.status).toBe(200);
      expect(again.body).toEqual({ status: 'duplicate', id: first.body.id });
      await h.waitForStatus(first.body.id as string, 'delivered');
      const afterDelivery = await post(toStateBody(singleSource()));
      expect(afterDelivery.body).toEqual({ status: 'duplicate', id: first.body.id });
      expect(await events()).toHaveLength(1);
      expect(h.github.received).toHaveLength(1);
      expect(h.logs.entries.filter((e) => e.msg === 'duplicate rollback: already known, nothing sent')).toHaveLength(2);
    });

    it('when ten identical requests race, then exactly one is accepted and the rest answer duplicate with its id', async () => {
      await start();
      const answers = await Promise.all(Array.from({ length: 10 }, () => post(toStateBody(singleSource()))));
      const accepted = answers.filter((r) => r.status === 202);
      expect(accepted).toHaveLength(1);
      const id = accepted[0]!.body.id as string;
      expect(answers.filter((r) => r.status === 200).map((r) => r.body as unknown)).toEqual(Array(9).fill({ status: 'duplicate', id }));
      await h.waitForStatus(id, 'delivered');
      expect(await events()).toHaveLength(1);
      expect(h.github.received).toHaveLength(1);
    });
  });

  describe('loop guard', () => {
    const rollback = (n: number, app = 'podinfo-prod') =>
      post({ client_payload: { app, failed_revision: failedRevision(n), healthy_revision: REV_8 } });

    it('when an app exceeds ROLLBACK_MAX_PER_WINDOW, then 409 ROLLBACK_SUPPRESSED, stored as suppressed, logged at warn, nothing sent', async () => {
      await start({ env: { ROLLBACK_MAX_PER_WINDOW: '2' } });
      expect((await rollback(1)).status).toBe(202);
      expect((await rollback(2)).status).toBe(202);
      const refused = await rollback(3);
      expect(refused.status).toBe(409);
      expect(refused.body.error.code).toBe('ROLLBACK_SUPPRESSED');
      expect(refused.body.error.message).toMatch(/^rollback refused: loop guard: 2 rollbacks of this app in the last 60 minutes \(at most 2\) \(event [0-9a-f-]{36}\)$/);

      const suppressed = (await events()).find((e) => e.failedRevision === failedRevision(3));
      expect(suppressed).toMatchObject({ status: 'suppressed', healthyRevision: REV_8, suppressionReason: expect.stringMatching(/^loop guard/) });
      expect(h.logs.entries).toContainEqual(expect.objectContaining({ level: 40, eventId: suppressed!.id, msg: expect.stringMatching(/^rollback suppressed: loop guard/) }));

      // Another app has its own allowance.
      expect((await rollback(4, 'other-app')).status).toBe(202);
      await h.github.waitFor((g) => g.accepted().length === 3);
      expect(h.github.accepted().map((r) => r.body?.client_payload?.failed_revision)).not.toContain(failedRevision(3));
    });

    it('when the window has passed (injected clock), then rollbacks are allowed again, and a suppressed request can be retried', async () => {
      const clock = createManualClock();
      await start({ worker: false, clock, env: { ROLLBACK_MAX_PER_WINDOW: '1', ROLLBACK_WINDOW_MINUTES: '30' } });
      expect((await rollback(1)).status).toBe(202);
      clock.advance(29 * 60_000);
      expect((await rollback(2)).status).toBe(409);
      clock.advance(60_001);
      // 30 minutes after the first rollback it no longer counts; the suppressed request goes through now.
      expect((await rollback(2)).status).toBe(202);
      expect((await events()).map((e) => e.status).sort()).toEqual(['queued', 'queued', 'suppressed']);
    });

    it('when the requested target is known failed and nothing else is known, then 409 ROLLBACK_SUPPRESSED (poisoned target)', async () => {
      await start();
      await report('podinfo-prod', 'Degraded', REV_8); // 422: nothing to go back to, but REV_8 is now known failed
      const res = await post({ client_payload: { app: 'podinfo-prod', failed_revision: REV_9, healthy_revision: REV_8 } });
      expect(res.status).toBe(409);
      expect(res.body.error.message).toMatch(new RegExp(`target ${REV_8} was reported failed at .* and no other healthy revision is known`));
      expect(h.github.received).toEqual([]);
    });

    it('when one commit serves two apps (monorepo) and one app reports it Degraded, then the other can still roll back to it', async () => {
      await start({ worker: false });
      await report('app-a', 'Healthy', REV_8);
      await report('app-b', 'Healthy', REV_8);
      await report('app-b', 'Degraded', REV_8);
      const res = await report('app-a', 'Degraded', REV_9);
      expect(res.body).toMatchObject({ healthy_revision: REV_8, target_reason: expect.stringMatching(/^from ledger/) });
      const b = await request(h.app).get('/v1/apps/app-b').set(admin);
      expect(b.body.known_failed).toEqual([{ revision: REV_8, reported_at: expect.any(String), source: 'health_report' }]);
    });
  });

  describe('what Argo CD re-sends (the retry trigger repeats a request until it is answered 2xx)', () => {
    const reportRows = async () => (await h.store.db.selectFrom('health_reports').select('id').execute()).length;

    it('when a refused request comes again and again, then each repeat answers 409 with the same event and stores nothing new', async () => {
      await start({ worker: false, env: { ROLLBACK_MAX_PER_WINDOW: '1' } });
      expect((await post({ client_payload: { app: 'podinfo-prod', failed_revision: failedRevision(1), healthy_revision: REV_8 } })).status).toBe(202);
      const state = toStateBody(singleSource());
      const first = await post(state);
      expect(first.status).toBe(409);
      const rows = { events: (await events()).length, reports: await reportRows() };
      const repeats = [await post(state), await post(state), await post(state)];
      expect(repeats.map((r) => r.status)).toEqual([409, 409, 409]);
      const id = /\(event ([0-9a-f-]{36})\)$/.exec(first.body.error.message as string)![1];
      for (const repeat of repeats) expect(repeat.body.error.message).toContain(`(event ${id})`);
      expect({ events: (await events()).length, reports: await reportRows() }).toEqual(rows);
      expect(h.logs.entries.filter((e) => String(e.msg).startsWith('rollback suppressed') && e.repeat === true)).toHaveLength(3);
    });

    it('when a request with nothing to roll back to comes again, then the failed revision is recorded once', async () => {
      await start({ worker: false });
      const state = { ...toStateBody(firstDeploy()) };
      expect((await post(state)).status).toBe(422);
      expect((await post(state)).status).toBe(422);
      expect(await reportRows()).toBe(1);
    });

    it('when a Degraded app was never synced, then 200 not_deployed, one refusal kept (not per re-send), a warn line; its later rollback is unaffected', async () => {
      await start({ worker: false });
      const res = await post(toStateBody(neverSynced()));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ status: 'not_deployed', app: 'podinfo-prod', message: expect.stringMatching(/^Argo CD never synced this app/) });
      expect((await post(toStateBody(neverSynced()))).status).toBe(200);
      // One refusal row, which no policy rule weighs: visible in /v1/apps, never a known-failed revision.
      expect(await h.store.db.selectFrom('health_reports').select(['status', 'source', 'revision']).execute()).toEqual([{ status: 'Refused', source: 'refusal', revision: 'none' }]);
      const apps = (await request(h.app).get('/v1/apps').set(admin)).body as { apps: Array<{ last_refusal: { revision: string; reason: string } | null; known_failed_revisions: number }> };
      expect(apps.apps).toEqual([expect.objectContaining({ known_failed_revisions: 0, last_refusal: expect.objectContaining({ revision: 'none', reason: expect.stringMatching(/^Argo CD never synced this app/) }) })]);
      expect(await events()).toEqual([]);
      expect(h.logs.entries).toContainEqual(expect.objectContaining({ level: 40, app: 'podinfo-prod', msg: expect.stringMatching(/^not a rollback: Argo CD never synced/) }));
      const later = await post(toStateBody(singleSource()));
      expect(later.status).toBe(202);
      expect(later.body).toMatchObject({ failed_revision: REV_9, healthy_revision: REV_8 });
    });

    it('when a multi-source app reports Healthy (the deployed template), then the Git source revision joins the ledger and becomes the target', async () => {
      await start({ worker: false });
      const healthy = multiSource() as Record<string, any>;
      healthy.status.health = { status: 'Healthy' };
      healthy.status.operationState.syncResult.revisions = ['6.9.0', REV_7];
      const recorded = await post(toStateBody(healthy as Application));
      expect(recorded.body).toEqual({ status: 'recorded', app: 'podinfo-prod', health: 'Healthy', revision: REV_7 });
      const res = await post(toStateBody(multiSource()));
      expect(res.body).toMatchObject({ failed_revision: REV_9, healthy_revision: REV_7, target_reason: expect.stringMatching(/^from ledger/) });
    });
  });

  describe('routes file', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'rollback-routes-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    const routes = (yaml: string) => {
      const path = join(dir, 'routes.yaml');
      writeFileSync(path, yaml);
      return { ROUTES_FILE: path };
    };

    it('when an app matches a glob route, then its dispatch goes to that repository with its event_type and values_paths', async () => {
      await start({
        repos: ['acme/gitops', 'acme/team-a-gitops'],
        env: routes(`routes:
  - app: "team-a-*"
    repo: team-a-gitops
    event_type: team-a-rollback
    values_paths: [charts/podinfo/values-prod.yaml, charts/podinfo/values-common.yaml]
`),
      });
      const routed = await post({ client_payload: { app: 'team-a-web', failed_revision: REV_9, healthy_revision: REV_8 } });
      const unrouted = await post({ client_payload: { app: 'podinfo-prod', failed_revision: REV_9, healthy_revision: REV_8 } });
      await h.waitForStatus(routed.body.id as string, 'delivered');
      await h.waitForStatus(unrouted.body.id as string, 'delivered');
      const byApp = Object.fromEntries(h.github.accepted().map((r) => [r.body?.client_payload?.app, r]));
      expect(byApp['team-a-web']).toMatchObject({ owner: 'acme', repo: 'team-a-gitops' });
      expect(byApp['team-a-web']!.body).toMatchObject({
        event_type: 'team-a-rollback',
        client_payload: { values_paths: 'charts/podinfo/values-prod.yaml\ncharts/podinfo/values-common.yaml' },
      });
      expect(byApp['podinfo-prod']).toMatchObject({ owner: 'acme', repo: 'gitops', body: { event_type: 'argo-degraded' } });
      expect(byApp['podinfo-prod']!.body?.client_payload).not.toHaveProperty('values_paths');
    });

    it('when a route says dry_run, then its rollbacks are recorded as dry_run and never sent', async () => {
      await start({ env: routes('routes:\n  - app: podinfo-prod\n    dry_run: true\n') });
      const res = await post(toStateBody(singleSource()));
      expect(res.status).toBe(202);
      expect(res.body.status).toBe('dry_run');
      expect((await findEvent(h.store.db, res.body.id as string))?.event.status).toBe('dry_run');
      expect(h.github.received).toEqual([]);
    });

    it('when a route overrides the loop guard, then its limit applies to matching apps only', async () => {
      await start({ worker: false, env: routes('routes:\n  - app: strict-*\n    rollback_max_per_window: 1\n') });
      const send = (app: string, n: number) => post({ client_payload: { app, failed_revision: failedRevision(n), healthy_revision: REV_8 } });
      expect([(await send('strict-app', 1)).status, (await send('strict-app', 2)).status]).toEqual([202, 409]);
      expect([(await send('relaxed-app', 3)).status, (await send('relaxed-app', 4)).status]).toEqual([202, 202]);
    });

    it('when a route sets source_index for a multi-source app, then that source decides the revisions', async () => {
      // Source 1 is the Git source here; naming it explicitly gives the same answer as the default.
      await start({ worker: false, env: routes('routes:\n  - app: podinfo-prod\n    source_index: 1\n') });
      const res = await post(toStateBody(multiSource()));
      expect(res.body).toMatchObject({ failed_revision: REV_9, healthy_revision: REV_8 });
    });
  });

  describe('GET /v1/apps', () => {
    it('when apps reported and rolled back, then the list and the detail show ledger, known failed revisions and rollbacks', async () => {
      await start({ worker: false });
      await report('podinfo-prod', 'Healthy', REV_7);
      await report('podinfo-prod', 'Healthy', REV_8);
      const rollback = await post(toStateBody(singleSource()));
      await report('other', 'Progressing', REV_7);

      const list = await request(h.app).get('/v1/apps').set(admin);
      expect(list.status).toBe(200);
      expect(list.body.apps).toEqual([
        { app: 'other', last_report: { status: 'Progressing', revision: REV_7, reported_at: expect.any(String) }, healthy_revisions: 0, known_failed_revisions: 0, last_rollback: null, last_refusal: null, paused: null },
        {
          app: 'podinfo-prod',
          last_report: { status: 'Degraded', revision: REV_9, reported_at: expect.any(String) },
          healthy_revisions: 2,
          known_failed_revisions: 1,
          last_rollback: { id: rollback.body.id, status: 'queued', outcome: null, created_at: expect.any(String) },
          last_refusal: null,
          paused: null,
        },
      ]);

      const detail = await request(h.app).get('/v1/apps/podinfo-prod').set(admin);
      expect(detail.body).toMatchObject({
        app: 'podinfo-prod',
        route: { repository: 'acme/gitops', event_type: 'argo-degraded', dry_run: false, loop_guard: { max_per_window: 3, window_minutes: 60 }, matched: null },
        ledger: [
          { revision: REV_8, known_failed: false },
          { revision: REV_7, known_failed: false },
        ],
        known_failed: [{ revision: REV_9, source: 'health_report' }],
        rollbacks: [{ id: rollback.body.id, status: 'queued', failed_revision: REV_9, healthy_revision: REV_8, target_reason: expect.stringMatching(/^from ledger/), suppression_reason: null }],
      });
    });

    it("when there are more apps than a page holds, then the pages follow by name with next, and each row counts what that app's own reports say", async () => {
      await start({ worker: false, env: { ROLLBACK_MAX_PER_WINDOW: '100' } });
      // Seven apps, each with its own story: healthy deploys, failures, a failure healed by a later Healthy report.
      const apps = Array.from({ length: 7 }, (_, i) => `app-${i}`);
      for (const [i, app] of apps.entries()) {
        for (let k = 0; k <= i; k++) await report(app, 'Healthy', failedRevision(100 + k));
        if (i % 2 === 1) await report(app, 'Degraded', failedRevision(200 + i));
        if (i % 3 === 2) {
          await report(app, 'Degraded', failedRevision(100));
          await report(app, 'Healthy', failedRevision(100));
        }
      }
      const pages: Array<{ apps: Array<Record<string, unknown>>; next: string | null }> = [];
      for (let url: string | null = '/v1/apps?limit=3'; url !== null; ) {
        const page = await request(h.app).get(url).set(admin);
        expect(page.status).toBe(200);
        pages.push(page.body as { apps: Array<Record<string, unknown>>; next: string | null });
        url = page.body.next as string | null;
      }
      expect(pages.map((p) => p.apps.map((a) => a.app))).toEqual([apps.slice(0, 3), apps.slice(3, 6), apps.slice(6)]);
      expect(pages.map((p) => p.next)).toEqual(['/v1/apps?limit=3&after=app-2', '/v1/apps?limit=3&after=app-5', null]);
      for (const row of pages.flatMap((p) => p.apps)) {
        const reports = await listReports(h.store.db, String(row.app));
        expect([row.app, row.healthy_revisions, row.known_failed_revisions]).toEqual([row.app, healthyLedger(reports).length, knownFailedReports(reports).length]);
      }
      expect(pages[0]!.apps.map((a) => a.known_failed_revisions)).toEqual([0, 1, 0]);
      expect((await request(h.app).get('/v1/apps?limit=0').set(admin)).status).toBe(422);
    });

    it('when an app is unknown, then 404; without the admin token, then 401', async () => {
      await start({ worker: false });
      expect((await request(h.app).get('/v1/apps/nobody').set(admin)).status).toBe(404);
      expect((await request(h.app).get('/v1/apps').set(auth)).status).toBe(401);
    });
  });
});
