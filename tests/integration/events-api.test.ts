import request from 'supertest';
import { createApp } from '../../src/app';
import { createLogger } from '../../src/logger';
import { DIALECTS } from '../support/dialects';
import { ADMIN_TOKEN, WEBHOOK_TOKEN, createHarness, createManualClock, failedRevision, seedBody, type Harness } from '../support/harness';

const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };
const webhook = { Authorization: `Bearer ${WEBHOOK_TOKEN}` };

describe('events API and probes', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness({ worker: false });
  });
  afterEach(() => h.close());

  let n = 0;
  const post = async (app: string): Promise<string> => {
    n += 1;
    const res = await request(h.app).post('/').set(webhook).send(seedBody({ app, failed_revision: failedRevision(n) }));
    expect(res.status).toBe(202);
    return res.body.id as string;
  };

  it('when events exist, then GET /v1/events lists them newest first, filtered by app and status, up to limit', async () => {
    const first = await post('alpha');
    const second = await post('beta');
    const third = await post('alpha');

    const all = await request(h.app).get('/v1/events').set(admin);
    expect(all.status).toBe(200);
    expect((all.body.events as Array<{ id: string }>).map((e) => e.id)).toEqual([third, second, first]);

    const alpha = await request(h.app).get('/v1/events?app=alpha&status=queued').set(admin);
    expect((alpha.body.events as Array<{ id: string }>).map((e) => e.id)).toEqual([third, first]);

    const limited = await request(h.app).get('/v1/events?limit=1').set(admin);
    expect(limited.body.events).toHaveLength(1);

    const delivered = await request(h.app).get('/v1/events?status=delivered').set(admin);
    expect(delivered.body.events).toEqual([]);
  });

  it.each([
    ['limit=0', /limit/],
    ['limit=501', /limit/],
    ['limit=ten', /limit: expected a whole number/],
    ['status=lost', /status/],
    ['before=42', /before: expected an event id/],
    ['before=00000000-0000-4000-8000-000000000000', /before: no such event/],
  ])('when the list query has %s, then 422 INVALID_PAYLOAD names it', async (query, message) => {
    const res = await request(h.app).get(`/v1/events?${query}`).set(admin);
    expect(res.status).toBe(422);
    expect(res.body.error).toEqual({ code: 'INVALID_PAYLOAD', message: expect.stringMatching(message) });
  });

  it('when an event is fetched, then it shows the dispatch body and its (empty) delivery attempts', async () => {
    const id = await post('alpha');
    const res = await request(h.app).get(`/v1/events/${id}`).set(admin);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id,
      app: 'alpha',
      status: 'queued',
      repository: 'acme/gitops',
      attempts: 0,
      dispatch: { event_type: 'argo-degraded', client_payload: { app: 'alpha', event_id: id } },
      delivery_attempts: [],
    });
    expect(Date.parse(res.body.created_at as string)).not.toBeNaN();
  });

  it.each(['00000000-0000-4000-8000-000000000000', 'not-a-uuid'])('when event %s does not exist, then 404 NOT_FOUND', async (id) => {
    const res = await request(h.app).get(`/v1/events/${id}`).set(admin);
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('NOT_FOUND');
    expect((await request(h.app).post(`/v1/events/${id}/replay`).set(admin)).status).toBe(404);
  });

  it('when a queued event is replayed, then 409 INVALID_STATE and nothing changes', async () => {
    const id = await post('alpha');
    const res = await request(h.app).post(`/v1/events/${id}/replay`).set(admin);
    expect(res.status).toBe(409);
    expect(res.body.error).toEqual({ code: 'INVALID_STATE', message: expect.stringMatching(/the event is queued/) });
  });

  it('when ADMIN_TOKEN is set, then the webhook token does not open the events API', async () => {
    for (const [method, path] of [['get', '/v1/events'], ['get', `/v1/events/${await post('a')}`], ['post', '/v1/events/x/replay']] as const) {
      const res = await request(h.app)[method](path).set(webhook);
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBeDefined();
      // It names the token the endpoint takes, and nothing of the one sent.
      expect(res.body.error.message).toBe('wrong token: this endpoint takes the admin token (ADMIN_TOKEN; the same as WEBHOOK_TOKEN when ADMIN_TOKEN is not set)');
    }
  });

  it('when the admin token is sent as the webhook token, then the webhook refuses it and says it takes the webhook token', async () => {
    const res = await request(h.app).post('/').set(admin).send(seedBody());
    expect(res.status).toBe(401);
    expect(res.body.error.message).toBe('wrong token: this is the webhook: it takes the webhook token (WEBHOOK_TOKEN), not the admin token');
    expect(JSON.stringify(res.body)).not.toContain(ADMIN_TOKEN);
  });

  it.each(['token', 'access_token', 'api_key'])('when a token comes as ?%s=, then 401 says the query string is never read, and the value is in no answer or log line', async (name) => {
    for (const [method, path, token] of [['post', '/v1/webhooks/argocd', WEBHOOK_TOKEN], ['get', '/v1/events', ADMIN_TOKEN]] as const) {
      const res = await request(h.app)[method](`${path}?${name}=${token}`).send(seedBody());
      expect(res.status).toBe(401);
      expect(res.body.error.message).toMatch(new RegExp(`^a token in the query string \\(${name}=\\) is never read`));
      expect(JSON.stringify(res.body)).not.toContain(token);
    }
    expect(h.logs.text()).not.toContain(WEBHOOK_TOKEN);
    expect(h.logs.text()).not.toContain(ADMIN_TOKEN);
  });

  it.each([
    ['get', '/v1/webhooks/argocd'],
    ['put', '/v1/webhooks/argocd'],
    ['get', '/'],
    ['delete', '/'],
  ] as const)('when %s %s, then 405 with Allow: POST and where to look instead', async (method, path) => {
    const res = await request(h.app)[method](path).set(webhook);
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('POST');
    expect(res.body.error).toEqual({ code: 'METHOD_NOT_ALLOWED', message: expect.stringMatching(/the webhook takes POST only .*GET \/healthz/) });
  });

  it('when the process is up, then /healthz answers 200 without a token', async () => {
    const res = await request(h.app).get('/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('when the store answers, then /readyz is 200; when it is closed, then 503 STORE_UNAVAILABLE', async () => {
    expect((await request(h.app).get('/readyz')).body).toEqual({ status: 'ready', github: null });
    await h.store.close();
    const res = await request(h.app).get('/readyz');
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('STORE_UNAVAILABLE');
  });

  it('when the service is stopping, then /readyz answers 503 SHUTTING_DOWN at once, while /healthz stays 200', async () => {
    const stopping = createApp({ config: h.config, logger: createLogger('silent'), store: h.store, clock: h.clock, isStopping: () => true });
    const ready = await request(stopping).get('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.error.code).toBe('SHUTTING_DOWN');
    expect((await request(stopping).get('/healthz')).status).toBe(200);
    expect((await request(h.app).get('/readyz')).status).toBe(200);
  });
});

describe.each(DIALECTS)('paging GET /v1/events by cursor on %s', (_dialect, createDatabase) => {
  let h: Harness;
  const clock = createManualClock(Date.now());
  beforeEach(async () => {
    h = await createHarness({ worker: false, clock, database: await createDatabase() });
  });
  afterEach(() => h.close());

  interface Page {
    events: Array<{ id: string; app: string }>;
    next: string | null;
  }
  const walk = async (path: string) => {
    const pages: Page[] = [];
    for (let url: string | null = path; url !== null; ) {
      const res = await request(h.app).get(url).set(admin);
      expect(res.status).toBe(200);
      const page = res.body as Page;
      // The Link header names the same next page.
      expect(res.headers.link).toBe(page.next === null ? undefined : `<${page.next}>; rel="next"`);
      pages.push(page);
      url = page.next;
    }
    return pages;
  };

  it('when events share a millisecond and span many, then following next visits every one once, newest first, with the filter kept', async () => {
    const posted: Array<{ id: string; app: string }> = [];
    for (let i = 1; i <= 8; i += 1) {
      // At most three per app (the loop guard's default).
      const app = [2, 5, 8].includes(i) ? 'alpha' : `app-${i}`;
      const res = await request(h.app).post('/').set(webhook).send(seedBody({ app, failed_revision: failedRevision(i) }));
      expect(res.status).toBe(202);
      posted.push({ id: res.body.id as string, app });
      // Three events in one millisecond, then time moves on.
      if (i % 3 === 0) clock.advance(1);
    }
    const newestFirst = [...posted].reverse();

    const pages = await walk('/v1/events?limit=3');
    expect(pages.map((p) => p.events.length)).toEqual([3, 3, 2]);
    expect(pages.flatMap((p) => p.events.map((e) => e.id))).toEqual(newestFirst.map((e) => e.id));
    expect(pages[0]!.next).toBe(`/v1/events?limit=3&before=${newestFirst[2]!.id}`);

    const alpha = await walk('/v1/events?app=alpha&limit=3');
    expect(alpha.flatMap((p) => p.events.map((e) => e.id))).toEqual(newestFirst.filter((e) => e.app === 'alpha').map((e) => e.id));
    expect(alpha[0]!.next).toMatch(/^\/v1\/events\?app=alpha&limit=3&before=/);
    // A page that ends exactly at the last event has a next page, which is empty and ends the walk.
    expect(alpha.map((p) => p.events.length)).toEqual([3, 0]);
  });

  it('when the cursor event is gone (retention), then the page starts at the time in its UUIDv7 id', async () => {
    const ids: string[] = [];
    for (let i = 1; i <= 3; i += 1) {
      ids.push((await request(h.app).post('/').set(webhook).send(seedBody({ failed_revision: failedRevision(i) }))).body.id as string);
      clock.advance(1000);
    }
    // A UUIDv7 made now (later than every event): the page holds them all.
    const later = `${(Date.now() + 60_000).toString(16).padStart(12, '0').replace(/^(.{8})(.{4})$/, '$1-$2')}-7000-8000-000000000000`;
    const res = await request(h.app).get(`/v1/events?before=${later}`).set(admin);
    expect(res.status).toBe(200);
    expect((res.body as Page).events.map((e) => e.id)).toEqual([...ids].reverse());
  });
});
