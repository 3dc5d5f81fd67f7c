import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { openDelivery } from '../../src/store/deliveries.repository';
import { findEvent, insertEvent } from '../../src/store/events.repository';
import { ADMIN_TOKEN, WEBHOOK_TOKEN, createHarness, failedRevision, seedBody, type Harness } from '../support/harness';

/** A route's dry_run holds on every path that could send: the webhook, a replay, and the worker itself. */
describe('dry run that stays dry', () => {
  let h: Harness;
  let dir: string;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dry-run-'));
    const routes = join(dir, 'routes.yaml');
    writeFileSync(routes, 'routes:\n  - app: staging-web\n    dry_run: true\n');
    h = await createHarness({ env: { ROUTES_FILE: routes } });
  });
  afterEach(async () => {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('when a dry-run app’s event is replayed, then it stays dry_run and nothing reaches GitHub', async () => {
    const res = await request(h.app).post('/v1/webhooks/argocd').set({ Authorization: `Bearer ${WEBHOOK_TOKEN}` }).send(seedBody({ app: 'staging-web' }));
    expect(res.body.status).toBe('dry_run');
    const replay = await request(h.app).post(`/v1/events/${res.body.id}/replay`).set({ Authorization: `Bearer ${ADMIN_TOKEN}` });
    expect(replay.status).toBe(202);
    expect(replay.body.status).toBe('dry_run');
    // Another app's rollback is delivered: the worker ran, and still sent nothing for staging-web.
    const other = await request(h.app).post('/v1/webhooks/argocd').set({ Authorization: `Bearer ${WEBHOOK_TOKEN}` }).send(seedBody({ app: 'prod-web' }));
    await h.waitForStatus(other.body.id as string, 'delivered');
    expect(h.github.received.map((r) => r.body?.client_payload?.app)).toEqual(['prod-web']);
  });

  it('when an event of a dry-run app is queued anyway (stored before its route said dry_run), then the worker records it dry_run and does not send it', async () => {
    const id = '01a22924-0000-7000-8000-000000000001';
    const body = JSON.stringify({ event_type: 'argo-degraded', client_payload: { app: 'staging-web', failed_revision: failedRevision(1), healthy_revision: '3b7e0c5a9d2f41e8b6c7a1f0e9d8c7b6a5f4e3d2', event_id: id } });
    await insertEvent(
      h.store.db,
      { id, app: 'staging-web', failedRevision: failedRevision(1), healthyRevision: '3b7e0c5a9d2f41e8b6c7a1f0e9d8c7b6a5f4e3d2', target: { owner: 'acme', repo: 'gitops' }, eventType: 'argo-degraded', dispatchBody: body, status: 'queued', requestId: null, targetReason: 'from payload', suppressionReason: null },
      h.clock.now(),
    );
    await openDelivery(h.store.db, id, { state: 'queued', now: h.clock.now(), newEvent: true });
    h.workers!.onEventStored();
    await h.waitForStatus(id, 'dry_run');
    expect((await findEvent(h.store.db, id))!.event.attempts).toBe(0);
    expect(h.github.received).toEqual([]);
    expect(h.logs.entries).toContainEqual(expect.objectContaining({ level: 40, eventId: id, msg: "not sent: the app's route is dry_run; recorded as dry_run" }));
  });
});
