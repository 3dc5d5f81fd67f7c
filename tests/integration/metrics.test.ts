import request from 'supertest';
import { ADMIN_TOKEN, WEBHOOK_TOKEN, createHarness, failedRevision, seedBody, type Harness } from '../support/harness';

const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };
const webhook = { Authorization: `Bearer ${WEBHOOK_TOKEN}` };

/** The value of one sample line (`name{labels} value`) of the exposition text, or undefined. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('GET /metrics (Prometheus)', () => {
  let h: Harness;
  afterEach(() => h.close());

  it('when webhooks of every kind arrived and one was delivered, then the counters, gauges and histograms say so', async () => {
    h = await createHarness();
    const first = await request(h.app).post('/v1/webhooks/argocd').set(webhook).send(seedBody());
    await request(h.app).post('/v1/webhooks/argocd').set(webhook).send(seedBody());
    await request(h.app).post('/v1/webhooks/argocd').set(webhook).send({ app: 'web', status: 'Healthy', revision: '3b7e0c5a9d2f41e8b6c7a1f0e9d8c7b6a5f4e3d2' });
    await request(h.app).post('/v1/webhooks/argocd').send(seedBody());
    await request(h.app).post('/v1/webhooks/argocd').set(webhook).send({ client_payload: { failed_revision: 'zz' } });
    await h.waitForStatus(first.body.id as string, 'delivered');

    const res = await request(h.app).get('/metrics').set(admin);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = res.text;
    expect(sample(text, 'rollback_webhooks_received_total', 'outcome="accepted"')).toBe(1);
    expect(sample(text, 'rollback_webhooks_received_total', 'outcome="duplicate"')).toBe(1);
    expect(sample(text, 'rollback_webhooks_received_total', 'outcome="recorded"')).toBe(1);
    expect(sample(text, 'rollback_webhooks_received_total', 'outcome="unauthorized"')).toBe(1);
    expect(sample(text, 'rollback_webhooks_received_total', 'outcome="invalid_payload"')).toBe(1);
    expect(sample(text, 'rollback_webhook_request_duration_seconds_count', 'outcome="accepted"')).toBe(1);
    expect(sample(text, 'rollback_events', 'status="delivered"')).toBe(1);
    expect(sample(text, 'rollback_outcomes', 'outcome="awaiting_run"')).toBe(1);
    expect(sample(text, 'rollback_delivery_attempts_total', 'result="delivered"')).toBe(1);
    expect(sample(text, 'rollback_dispatch_duration_seconds_count')).toBe(1);
    expect(sample(text, 'rollback_github_rate_limit_remaining')).toBeGreaterThan(4000);
    expect(sample(text, 'rollback_github_rate_limit_reset_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000);
    expect(sample(text, 'rollback_oldest_undelivered_event_age_seconds')).toBe(0);
    expect(sample(text, 'rollback_notifications_pending')).toBe(0);
    expect(text).toMatch(/^process_cpu_seconds_total /m);
    // Low cardinality by default: no app label anywhere.
    expect(text).not.toMatch(/app="/);
  });

  it('when an event waits undelivered, then the age of the oldest is exported', async () => {
    h = await createHarness({ worker: false });
    await request(h.app).post('/v1/webhooks/argocd').set(webhook).send(seedBody({ failed_revision: failedRevision(1) }));
    await new Promise((r) => setTimeout(r, 30));
    const text = (await request(h.app).get('/metrics').set(admin)).text;
    expect(sample(text, 'rollback_oldest_undelivered_event_age_seconds')).toBeGreaterThan(0.02);
    expect(sample(text, 'rollback_events', 'status="queued"')).toBe(1);
  });

  it('when no token is sent, then 401; METRICS_TOKEN guards it instead of the admin token', async () => {
    h = await createHarness({ worker: false, env: { METRICS_TOKEN: 'metrics-scraper-token-0123' } });
    expect((await request(h.app).get('/metrics')).status).toBe(401);
    expect((await request(h.app).get('/metrics').set(admin)).status).toBe(401);
    expect((await request(h.app).get('/metrics').set({ Authorization: 'Bearer metrics-scraper-token-0123' })).status).toBe(200);
  });

  it('when METRICS_PUBLIC=true and no METRICS_TOKEN, then it is open; METRICS_APP_LABEL=true adds the app', async () => {
    h = await createHarness({ worker: false, env: { METRICS_PUBLIC: 'true', METRICS_APP_LABEL: 'true' } });
    await request(h.app).post('/v1/webhooks/argocd').set(webhook).send(seedBody({ app: 'podinfo-prod' }));
    const res = await request(h.app).get('/metrics');
    expect(res.status).toBe(200);
    expect(sample(res.text, 'rollback_webhooks_received_total', 'outcome="accepted",app="podinfo-prod"')).toBe(1);
  });

  it('when more apps than METRICS_MAX_APPS send webhooks, then per-app series stop at the cap, the rest count under app="_other", and a gauge says so', async () => {
    h = await createHarness({ worker: false, env: { METRICS_PUBLIC: 'true', METRICS_APP_LABEL: 'true', METRICS_MAX_APPS: '3' } });
    const scrape = async () => (await request(h.app).get('/metrics')).text;
    const appsIn = (text: string) => new Set(text.split('\n').filter((l) => l.startsWith('rollback_webhooks_received_total{')).map((l) => /app="([^"]*)"/.exec(l)?.[1]));
    for (let i = 1; i <= 3; i += 1) await request(h.app).post('/v1/webhooks/argocd').set(webhook).send(seedBody({ app: `app-${i}`, failed_revision: failedRevision(i) }));
    const atCap = await scrape();
    expect(appsIn(atCap)).toEqual(new Set(['app-1', 'app-2', 'app-3']));
    expect(sample(atCap, 'rollback_metrics_apps_capped')).toBe(0);

    for (let i = 4; i <= 9; i += 1) await request(h.app).post('/v1/webhooks/argocd').set(webhook).send(seedBody({ app: `app-${i}`, failed_revision: failedRevision(i) }));
    // An app with series keeps them past the cap.
    await request(h.app).post('/v1/webhooks/argocd').set(webhook).send(seedBody({ app: 'app-2', failed_revision: failedRevision(10) }));
    const past = await scrape();
    expect(appsIn(past)).toEqual(new Set(['app-1', 'app-2', 'app-3', '_other']));
    expect(sample(past, 'rollback_webhooks_received_total', 'outcome="accepted",app="_other"')).toBe(6);
    expect(sample(past, 'rollback_webhooks_received_total', 'outcome="accepted",app="app-2"')).toBe(2);
    expect(sample(past, 'rollback_metrics_apps_capped')).toBe(1);
    // The README's alert rules sum without the app label: the total is every webhook.
    const total = past.split('\n').filter((l) => l.startsWith('rollback_webhooks_received_total{outcome="accepted"')).reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
    expect(total).toBe(10);
  });
});
