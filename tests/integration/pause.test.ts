import request from 'supertest';
import { createApp } from '../../src/app';
import { createLogger } from '../../src/logger';
import { listEvents } from '../../src/store/events.repository';
import { DIALECTS } from '../support/dialects';
import { ADMIN_TOKEN, WEBHOOK_TOKEN, createHarness, failedRevision, seedBody, type Harness } from '../support/harness';

const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };
const webhook = { Authorization: `Bearer ${WEBHOOK_TOKEN}` };

describe.each(DIALECTS)('the pause switch on %s', (_dialect, createDatabase) => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness({ worker: false, database: await createDatabase() });
  });
  afterEach(() => h.close());

  const rollback = (app = 'podinfo-prod', n = 1) => request(h.app).post('/v1/webhooks/argocd').set(webhook).send(seedBody({ app, failed_revision: failedRevision(n) }));

  it('when an app is paused, then its rollbacks are recorded and refused with who and why, other apps are not, and /v1/apps shows it', async () => {
    // Paused before it sent anything: said so explicitly, and answered so.
    const paused = await request(h.app).post('/v1/apps/podinfo-prod/pause').set(admin).send({ reason: 'database migration until 14:00', by: 'ana@example.com', allow_unseen: true });
    expect(paused.status).toBe(200);
    expect(paused.body).toEqual({ app: 'podinfo-prod', paused: { reason: 'database migration until 14:00', by: 'ana@example.com', since: expect.any(String) }, unseen: true });

    const refused = await rollback();
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(/^rollback refused: app paused by ana@example\.com since .*: database migration until 14:00 \(event /);
    expect((await rollback('other-app', 2)).status).toBe(202);
    expect((await listEvents(h.store.db, { app: 'podinfo-prod', limit: 10 })).map((e) => e.status)).toEqual(['suppressed']);

    const list = (await request(h.app).get('/v1/apps').set(admin)).body as { apps: Array<{ app: string; paused: unknown }> };
    expect(list.apps.find((a) => a.app === 'podinfo-prod')?.paused).toMatchObject({ by: 'ana@example.com' });
    expect(list.apps.find((a) => a.app === 'other-app')?.paused).toBeNull();

    // Another process on the same store (a replica, or this one after a restart) sees the same switch.
    const other = createApp({ config: h.config, logger: createLogger('silent'), store: h.store, clock: h.clock });
    expect((await request(other).post('/v1/webhooks/argocd').set(webhook).send(seedBody({ app: 'podinfo-prod', failed_revision: failedRevision(3) }))).status).toBe(409);
  });

  it('when the app is resumed, then the same rollback goes through', async () => {
    expect((await rollback('podinfo-prod', 7)).status).toBe(202);
    const paused = await request(h.app).post('/v1/apps/podinfo-prod/pause').set(admin).send({ reason: 'incident 42', by: 'ana' });
    expect(paused.body).not.toHaveProperty('unseen');
    expect((await rollback()).status).toBe(409);
    const resumed = await request(h.app).post('/v1/apps/podinfo-prod/resume').set(admin).send({ by: 'ben', reason: 'migration done' });
    expect(resumed.body).toMatchObject({ app: 'podinfo-prod', paused: null, resumed_by: 'ben', was_paused: { reason: 'incident 42', by: 'ana' } });
    expect((await rollback()).status).toBe(202);
    expect((await request(h.app).get('/v1/apps/podinfo-prod').set(admin)).body.paused).toBeNull();
  });

  it.each([
    ['no reason', { by: 'ana' }, /^reason: /],
    ['no who', { reason: 'x' }, /^by: required/],
    ['an unknown field', { reason: 'x', by: 'ana', until: 'tomorrow' }, /until|Unrecognized/],
  ])('when a pause has %s, then 422 and nothing is paused', async (_name, body, message) => {
    const res = await request(h.app).post('/v1/apps/podinfo-prod/pause').set(admin).send(body);
    expect(res.status).toBe(422);
    expect(res.body.error.message).toMatch(message);
    expect((await rollback()).status).toBe(202);
  });

  it('when a pause names an app the service has not seen, then 404 saying how to mean it, and nothing is paused or listed', async () => {
    const res = await request(h.app).post('/v1/apps/podinfo-prdo/pause').set(admin).send({ reason: 'typo', by: 'ana' });
    expect(res.status).toBe(404);
    expect(res.body.error.message).toBe('no report, rollback or pause of app "podinfo-prdo" yet: to pause an app before it sends anything, say so with allow_unseen: true');
    expect((await request(h.app).get('/v1/apps').set(admin)).body.apps).toEqual([]);
  });

  it.each([
    ['markup', '<img src=x>'],
    ['a space', 'my app'],
    ['a NUL character', 'app\u0000x'],
  ])('when a pause or resume names an app with %s, then it is refused like the webhook refuses it, and no app is made up', async (_name, app) => {
    for (const action of ['pause', 'resume']) {
      const res = await request(h.app).post(`/v1/apps/${encodeURIComponent(app)}/${action}`).set(admin).send({ reason: 'x', by: 'ana', allow_unseen: true });
      expect([action, res.status]).toEqual([action, app.includes('\u0000') ? 404 : 422]);
    }
    expect((await request(h.app).get('/v1/apps').set(admin)).body.apps).toEqual([]);
  });

  it('when the webhook token is used to pause, then 401: the switch needs the admin token', async () => {
    expect((await request(h.app).post('/v1/apps/podinfo-prod/pause').set(webhook).send({ reason: 'x', by: 'y' })).status).toBe(401);
  });
});
