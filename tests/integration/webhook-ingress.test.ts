import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import SQLite from 'better-sqlite3';
import request from 'supertest';
import { findEvent, listEvents } from '../../src/store/events.repository';
import { ADMIN_TOKEN, FAILED, HEALTHY, WEBHOOK_TOKEN, createHarness, createManualClock, failedRevision, seedBody, type Harness } from '../support/harness';

const auth = { Authorization: `Bearer ${WEBHOOK_TOKEN}` };

/** POSTs a raw body (a string with Content-Length, or a stream sent chunked) to a listening app. */
async function postRaw(h: Harness, body: string | Readable): Promise<{ status: number; body: { error: { code: string } } }> {
  const server = h.app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    return await new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/v1/webhooks/argocd', headers: { Authorization: `Bearer ${WEBHOOK_TOKEN}`, 'Content-Type': 'application/json' } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as { error: { code: string } } }));
      });
      req.on('error', reject);
      if (typeof body === 'string') req.end(body);
      else body.pipe(req);
    });
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

async function countEvents(h: Harness): Promise<number> {
  return (await listEvents(h.store.db, { limit: 500 })).length;
}

describe('POST / and /v1/webhooks/argocd (shape A, the seed contract)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness({ worker: false });
  });
  afterEach(async () => {
    // Every request here carried the webhook token in a header; none of it may reach a log line.
    expect(h.logs.lines.length).toBeGreaterThan(0);
    expect(h.logs.text()).not.toContain(WEBHOOK_TOKEN);
    expect(h.logs.text()).not.toContain(Buffer.from(`argocd:${WEBHOOK_TOKEN}`).toString('base64'));
    await h.close();
  });

  it.each(['/', '/v1/webhooks/argocd'])('when the seed body is posted to %s, then it answers 202 after storing the event', async (path) => {
    const res = await request(h.app).post(path).set(auth).send(seedBody());
    expect(res.status).toBe(202);
    expect(res.body).toEqual({
      id: expect.any(String),
      status: 'queued',
      app: 'podinfo-prod',
      failed_revision: FAILED,
      healthy_revision: HEALTHY,
      target_reason: 'from payload',
      restore: [{ id: res.body.id, repository: 'acme/gitops', from: 'workflow default', paths: [] }],
    });
    expect(res.headers.location).toBe(`/v1/events/${res.body.id}`);

    const stored = await findEvent(h.store.db, res.body.id as string);
    expect(stored?.event).toMatchObject({ status: 'queued', app: 'podinfo-prod', failedRevision: FAILED, healthyRevision: HEALTHY, target: { owner: 'acme', repo: 'gitops' }, attempts: 0 });
    expect(JSON.parse(stored!.event.dispatchBody)).toEqual({
      event_type: 'argo-degraded',
      client_payload: { failed_revision: FAILED, healthy_revision: HEALTHY, app: 'podinfo-prod', event_id: res.body.id },
    });
    // One line for the webhook, carrying the request and the decision.
    const lines = h.logs.entries.filter((e) => e.reqId === res.headers['x-request-id']);
    expect(lines).toEqual([expect.objectContaining({ level: 30, msg: 'queued', eventId: res.body.id, app: 'podinfo-prod', healthyRevision: HEALTHY, req: expect.objectContaining({ method: 'POST', path }), res: { statusCode: 202 }, responseTime: expect.any(Number) })]);
  });

  it('when a webhook is refused (409 loop guard, 401), then its one log line carries the decision, the code and the request', async () => {
    const refused = await request(h.app).post('/').set({ Authorization: 'Bearer wrong-token-of-some-length' }).send(seedBody());
    expect(refused.status).toBe(401);
    expect(h.logs.entries.filter((e) => e.reqId === refused.headers['x-request-id'])).toEqual([
      expect.objectContaining({ level: 30, code: 'UNAUTHORIZED', res: { statusCode: 401 }, req: expect.objectContaining({ path: '/' }) }),
    ]);
    const answers = [];
    for (let i = 1; i <= 4; i++) answers.push(await request(h.app).post('/').set(auth).send(seedBody({ failed_revision: failedRevision(i) })));
    const loop = answers[3]!;
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 409]);
    expect(h.logs.entries.filter((e) => e.reqId === loop.headers['x-request-id'])).toEqual([
      expect.objectContaining({ level: 40, msg: expect.stringMatching(/^rollback suppressed: loop guard/), code: 'ROLLBACK_SUPPRESSED', eventId: expect.any(String), res: { statusCode: 409 } }),
    ]);
  });

  it('when Argo CD sends no Content-Type, then the body is read as JSON', async () => {
    const res = await request(h.app).post('/').set(auth).unset('Content-Type').send(Buffer.from(JSON.stringify(seedBody())));
    expect(res.status).toBe(202);
  });

  it('when the Content-Type is application/json with a charset, then it is accepted', async () => {
    const res = await request(h.app).post('/').set(auth).set('Content-Type', 'application/json; charset=utf-8').send(JSON.stringify(seedBody()));
    expect(res.status).toBe(202);
  });

  it.each([
    ['Bearer', { Authorization: `Bearer ${WEBHOOK_TOKEN}` }],
    ['Basic password (Argo CD basicAuth)', { Authorization: `Basic ${Buffer.from(`argocd:${WEBHOOK_TOKEN}`).toString('base64')}` }],
    ['X-Webhook-Token', { 'X-Webhook-Token': WEBHOOK_TOKEN }],
  ])('when the token comes as %s, then it is accepted', async (_name, headers) => {
    expect((await request(h.app).post('/').set(headers).send(seedBody())).status).toBe(202);
  });

  it('when a client sends x-request-id, then it is echoed and stored with the event', async () => {
    const res = await request(h.app).post('/').set(auth).set('x-request-id', 'argo-42').send(seedBody());
    expect(res.headers['x-request-id']).toBe('argo-42');
    expect((await findEvent(h.store.db, res.body.id as string))?.event.requestId).toBe('argo-42');
  });

  it('when no x-request-id is sent, then one is generated and echoed', async () => {
    const res = await request(h.app).post('/').set(auth).send(seedBody());
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('when the answer is JSON, then there is no etag and no x-powered-by', async () => {
    const res = await request(h.app).post('/').set(auth).send(seedBody());
    expect(res.headers.etag).toBeUndefined();
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('when extra client_payload keys are sent, then they are passed through to the dispatch', async () => {
    const res = await request(h.app).post('/').set(auth).send(seedBody({ ticket: 'OPS-7', values_path: 'charts/podinfo/values-prod.yaml' }));
    const stored = await findEvent(h.store.db, res.body.id as string);
    expect(JSON.parse(stored!.event.dispatchBody).client_payload).toMatchObject({ ticket: 'OPS-7', values_path: 'charts/podinfo/values-prod.yaml' });
  });

  describe('bad input gets a clear 4xx and nothing is stored', () => {
    // A body just under the 64 KB body limit whose client payload, once event_id and the default app are
    // added, reaches GitHub's 65,535-character limit: the size check must refuse it before storing.
    const bodyOfLength = (bytes: number) => {
      const make = (pad: string) => JSON.stringify({ client_payload: { failed_revision: FAILED, healthy_revision: HEALTHY, pad } });
      return make('x'.repeat(bytes - make('').length));
    };
    const payload = (p: Record<string, unknown>) => ({ event_type: 'argo-degraded', client_payload: { failed_revision: FAILED, healthy_revision: HEALTHY, ...p } });
    interface BadCase {
      name: string;
      build: (r: request.Test) => request.Test;
      status: number;
      code: string;
      message?: RegExp;
    }
    const cases: BadCase[] = [
      { name: 'no token', build: (r) => r.send(seedBody()), status: 401, code: 'UNAUTHORIZED', message: /no token/ },
      { name: 'a wrong token', build: (r) => r.set('Authorization', 'Bearer not-the-token-at-all').send(seedBody()), status: 401, code: 'UNAUTHORIZED', message: /wrong token/ },
      { name: 'a wrong Basic password', build: (r) => r.set('Authorization', `Basic ${Buffer.from('argocd:nope').toString('base64')}`).send(seedBody()), status: 401, code: 'UNAUTHORIZED' },
      { name: 'text/plain', build: (r) => r.set(auth).set('Content-Type', 'text/plain').send(JSON.stringify(seedBody())), status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', message: /text\/plain/ },
      { name: 'a form body', build: (r) => r.set(auth).type('form').send({ a: 'b' }), status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
      { name: 'a 1 MB body', build: (r) => r.set(auth).set('Content-Type', 'application/json').send(JSON.stringify({ pad: 'x'.repeat(1024 * 1024) })), status: 413, code: 'PAYLOAD_TOO_LARGE' },
      { name: 'a body that is not JSON', build: (r) => r.set(auth).set('Content-Type', 'application/json').send('{"event_type": '), status: 400, code: 'INVALID_JSON', message: /not valid JSON/ },
      { name: 'an empty body', build: (r) => r.set(auth).set('Content-Type', 'application/json').send(''), status: 400, code: 'INVALID_JSON', message: /empty/ },
      { name: 'a JSON array', build: (r) => r.set(auth).send([seedBody()]), status: 422, code: 'INVALID_PAYLOAD', message: /got an array/ },
      { name: 'a JSON string', build: (r) => r.set(auth).set('Content-Type', 'application/json').send('"degraded"'), status: 422, code: 'INVALID_PAYLOAD', message: /got string/ },
      { name: 'no client_payload', build: (r) => r.set(auth).send({ event_type: 'argo-degraded' }), status: 422, code: 'INVALID_PAYLOAD', message: /^body: expected \{event_type, client_payload/ },
      { name: 'a failed_revision that is not hex', build: (r) => r.set(auth).send(payload({ failed_revision: 'zzzzzzz' })), status: 422, code: 'INVALID_PAYLOAD', message: /failed_revision: expected a hex/ },
      { name: 'a failed_revision too short', build: (r) => r.set(auth).send(payload({ failed_revision: 'abc12' })), status: 422, code: 'INVALID_PAYLOAD', message: /failed_revision: expected 7 to 64/ },
      { name: 'a failed_revision too long', build: (r) => r.set(auth).send(payload({ failed_revision: 'a'.repeat(65) })), status: 422, code: 'INVALID_PAYLOAD', message: /failed_revision: expected 7 to 64/ },
      { name: '<no value> as failed_revision', build: (r) => r.set(auth).send(payload({ failed_revision: '<no value>' })), status: 422, code: 'INVALID_PAYLOAD', message: /<no value>/ },
      { name: 'a short healthy_revision', build: (r) => r.set(auth).send(payload({ healthy_revision: HEALTHY.slice(0, 12) })), status: 422, code: 'INVALID_PAYLOAD', message: /40 or 64/ },
      { name: 'an event_type over 100 characters', build: (r) => r.set(auth).send({ ...payload({}), event_type: 'e'.repeat(101) }), status: 422, code: 'INVALID_PAYLOAD', message: /event_type/ },
      { name: 'a client payload over 10 keys', build: (r) => r.set(auth).send(payload(Object.fromEntries(Array.from({ length: 7 }, (_, i) => [`k${i}`, i])))), status: 422, code: 'INVALID_PAYLOAD', message: /10 top-level keys/ },
      { name: 'a client payload over 64 KB', build: (r) => r.set(auth).set('Content-Type', 'application/json').send(bodyOfLength(65_530)), status: 422, code: 'INVALID_PAYLOAD', message: /64 KB/ },
      { name: 'a __proto__ key', build: (r) => r.set(auth).set('Content-Type', 'application/json').send('{"client_payload":{"failed_revision":"' + FAILED + '","healthy_revision":"' + HEALTHY + '","__proto__":{"polluted":true}}}'), status: 422, code: 'INVALID_PAYLOAD', message: /__proto__/ },
      { name: 'a constructor key', build: (r) => r.set(auth).send(payload({ constructor: { prototype: { polluted: true } } })), status: 422, code: 'INVALID_PAYLOAD', message: /constructor/ },
    ];

    it.each(cases)('when the request has $name, then $status $code', async ({ build, status, code, message }) => {
      const res = await build(request(h.app).post('/v1/webhooks/argocd'));
      expect(res.status).toBe(status);
      expect(res.body.error.code).toBe(code);
      if (message) expect(res.body.error.message).toMatch(message);
      expect(await countEvents(h)).toBe(0);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it.each([
      ['with a Content-Length', (body: string) => body],
      ['chunked (no Content-Length)', (body: string) => Readable.from([body.slice(0, 1000), body.slice(1000)])],
    ])('when a body over 64 KB names its app (%s), then 413 and a warn line naming the app', async (_name, shape) => {
      // A whole Application of a large app, app name first as the shipped templates render it.
      const body = JSON.stringify({ app: 'big-app', health: { status: 'Degraded' }, operationState: { syncResult: { resources: 'x'.repeat(80_000) } } });
      const res = await postRaw(h, shape(body));
      expect(res.status).toBe(413);
      expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE');
      expect(h.logs.entries).toContainEqual(
        expect.objectContaining({ level: 40, app: 'big-app', limitBytes: 65_536, msg: expect.stringMatching(/^webhook body over 64 KB refused for app big-app/) }),
      );
    });

    it('when a body over 64 KB has no readable app, then the warn line says so without a name', async () => {
      const res = await postRaw(h, JSON.stringify({ pad: 'x'.repeat(70_000), app: 'hidden-past-the-head' }));
      expect(res.status).toBe(413);
      const warn = h.logs.entries.find((e) => e.level === 40 && String(e.msg).startsWith('webhook body over 64 KB refused'));
      expect(warn).toBeDefined();
      expect(warn).not.toHaveProperty('app');
    });

    it('when the token is only in the query string, then it is not accepted and not logged', async () => {
      const res = await request(h.app).post(`/?token=${WEBHOOK_TOKEN}&access_token=${WEBHOOK_TOKEN}`).send(seedBody());
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/Bearer realm=.*Basic realm=/);
      expect(await countEvents(h)).toBe(0);
      expect(h.logs.text()).not.toContain(WEBHOOK_TOKEN);
    });
  });

  it.each([
    ['a store error (SQLite disk I/O)', () => new SQLite.SqliteError('disk I/O error', 'SQLITE_IOERR'), 503, 'STORE_UNAVAILABLE'],
    ['a lost PostgreSQL connection', () => Object.assign(new Error('Connection terminated unexpectedly'), {}), 503, 'STORE_UNAVAILABLE'],
    ['a programming bug (TypeError)', () => new TypeError("Cannot read properties of undefined (reading 'revision')"), 500, 'INTERNAL'],
    ['a SQLite constraint violation (a bug, not an outage)', () => new SQLite.SqliteError('CHECK constraint failed: app', 'SQLITE_CONSTRAINT_CHECK'), 500, 'INTERNAL'],
    ['a SQL bug (no such column)', () => new SQLite.SqliteError('no such column: nope', 'SQLITE_ERROR'), 500, 'INTERNAL'],
  ])('when storing fails with %s, then %s %s, no stack in the body, the stack in the log', async (_name, makeError, status, code) => {
    h.store.lockApp = () => Promise.reject(makeError());
    const res = await request(h.app).post('/v1/webhooks/argocd').set(auth).send(seedBody());
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
    expect(JSON.stringify(res.body)).not.toMatch(/at .*\.ts:\d+/);
    expect(h.logs.entries).toContainEqual(expect.objectContaining({ level: 50, code, err: expect.objectContaining({ stack: expect.stringContaining('Error') }) }));
  });

  it('when a route does not exist, then 404 NOT_FOUND', async () => {
    const res = await request(h.app).get('/nope');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: { code: 'NOT_FOUND', message: 'no route for GET /nope' } });
  });

  it('when a webhook is posted to a wrong path, then the 404 names the webhook paths, and nothing is stored', async () => {
    for (const path of ['/webhook', '/hooks/argocd', '/v1/webhooks/argo']) {
      const res = await request(h.app).post(path).set(auth).send(seedBody());
      expect(res.status).toBe(404);
      expect(res.body).toEqual({
        error: { code: 'NOT_FOUND', message: `no route for POST ${path}: the webhook is POST / or POST /v1/webhooks/argocd (the URL in the Argo CD ConfigMap's service.webhook.gitops-rollback)` },
      });
    }
    expect((await request(h.app).get('/v1/events').set({ Authorization: `Bearer ${ADMIN_TOKEN}` })).body.events).toEqual([]);
  });
  // What the store's errors are answered with (503 for an outage, 500 for a bug): tests/integration/store-errors.test.ts.
});

describe('ingress rate limit', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness({ worker: false, env: { INGRESS_RATE_LIMIT_PER_MINUTE: '2' } });
  });
  afterEach(() => h.close());

  it('when a client sends more webhooks a minute than allowed, then 429 RATE_LIMITED and the extra one is not stored', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await request(h.app).post('/').set(auth).send(seedBody({ failed_revision: failedRevision(i) }))).status);
    expect(statuses).toEqual([202, 202, 429]);
    const res = await request(h.app).post('/').set(auth).send(seedBody({ failed_revision: failedRevision(9) }));
    expect(res.body.error.code).toBe('RATE_LIMITED');
    expect(await countEvents(h)).toBe(2);
  });
});

describe('DRY_RUN=true', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness({ env: { DRY_RUN: 'true' } });
  });
  afterEach(() => h.close());

  it('when a rollback arrives, then it is recorded as dry_run, the dispatch is logged, and GitHub is never called', async () => {
    const res = await request(h.app).post('/').set(auth).send(seedBody());
    expect(res.status).toBe(202);
    expect(res.body.status).toBe('dry_run');
    expect((await findEvent(h.store.db, res.body.id as string))?.event.status).toBe('dry_run');
    const line = h.logs.entries.find((e) => e.eventId === res.body.id && String(e.msg).startsWith('dry run'));
    expect(line).toMatchObject({ msg: 'dry run: recorded; this dispatch would be sent to GitHub', dispatches: [{ eventId: res.body.id, repo: 'acme/gitops', dispatch: { event_type: 'argo-degraded', client_payload: { event_id: res.body.id } } }] });
    expect(h.worker).toBeUndefined();
    expect(h.github.received).toHaveLength(0);
  });
});

describe('behind a proxy (TRUST_PROXY)', () => {
  let h: Harness;
  afterEach(() => h.close());
  const from = (client: string, i: number) => request(h.app).post('/').set(auth).set('X-Forwarded-For', client).send(seedBody({ failed_revision: failedRevision(i) }));

  it('when TRUST_PROXY=1, then each client behind the proxy has its own rate-limit bucket', async () => {
    h = await createHarness({ worker: false, env: { INGRESS_RATE_LIMIT_PER_MINUTE: '2', TRUST_PROXY: '1', ROLLBACK_MAX_PER_WINDOW: '100' } });
    const a = [(await from('203.0.113.1', 1)).status, (await from('203.0.113.1', 2)).status, (await from('203.0.113.1', 3)).status];
    const b = [(await from('203.0.113.2', 4)).status, (await from('203.0.113.2', 5)).status];
    expect({ a, b }).toEqual({ a: [202, 202, 429], b: [202, 202] });
    expect(h.logs.entries.some((e) => String(e.msg).startsWith('X-Forwarded-For received but TRUST_PROXY=false'))).toBe(false);
  });

  it('when TRUST_PROXY=1 and IPv6 clients rotate through one /64, then they share one rate-limit bucket', async () => {
    h = await createHarness({ worker: false, env: { INGRESS_RATE_LIMIT_PER_MINUTE: '2', TRUST_PROXY: '1', ROLLBACK_MAX_PER_WINDOW: '100' } });
    const a = [(await from('2001:db8:9:9::1', 1)).status, (await from('2001:db8:9:9::2', 2)).status, (await from('2001:db8:9:9:abcd::3', 3)).status];
    const b = [(await from('2001:db8:9:a::1', 4)).status];
    expect({ a, b }).toEqual({ a: [202, 202, 429], b: [202] });
  });

  it('when TRUST_PROXY is not set and a guesser varies X-Forwarded-For, then every guess still spends the one budget of its TCP address', async () => {
    h = await createHarness({ worker: false });
    const statuses: number[] = [];
    for (let i = 0; i < 22; i += 1) statuses.push((await request(h.app).get('/v1/events').set('X-Forwarded-For', `198.51.100.${i + 1}`).set('Authorization', `Bearer guess-${i}-0123456789`)).status);
    expect(statuses).toEqual([...Array<number>(20).fill(401), 429, 429]);
  });

  it('when TRUST_PROXY is not set, then X-Forwarded-For is not believed (one bucket), and that is said once as a JSON log line', async () => {
    h = await createHarness({ worker: false, env: { INGRESS_RATE_LIMIT_PER_MINUTE: '2' } });
    const statuses = [(await from('203.0.113.1', 1)).status, (await from('203.0.113.2', 2)).status, (await from('203.0.113.3', 3)).status];
    expect(statuses).toEqual([202, 202, 429]);
    expect(h.logs.entries.filter((e) => String(e.msg).startsWith('X-Forwarded-For received but TRUST_PROXY=false'))).toHaveLength(1);
  });
});

describe('hostile input', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness({ worker: false, env: { INGRESS_RATE_LIMIT_PER_MINUTE: '2' } });
  });
  afterEach(() => h.close());
  const raw = (body: string, headers: Record<string, string> = {}) => request(h.app).post('/v1/webhooks/argocd').set(auth).set('Content-Type', 'application/json').set(headers).send(body);

  it.each([
    ['arrays nested 4,800 deep with constructor inside (12 KB)', `${'['.repeat(4800)}{"constructor":1}${']'.repeat(4800)}`, /nested deeper than 32 levels/],
    ['a client_payload extra nested 4,100 deep', `{"client_payload":{"failed_revision":"9f1c2e7","x":${'['.repeat(4100)}${']'.repeat(4100)}}}`, /client_payload\.x.*nested deeper than 32 levels/],
    ['an escaped constructor key', '{"client_payload":{"failed_revision":"9f1c2e7","c\\u006fnstructor":{"prototype":{}}}}', /client_payload\.constructor: this key name is not accepted/],
    ['an escaped __proto__ key', '{"client_payload":{"failed_revision":"9f1c2e7","\\u005f_proto__":{"polluted":true}}}', /client_payload\.__proto__: this key name is not accepted/],
  ])('when the body has %s, then 422 from the table, nothing stored, and the process still answers', async (_name, body, message) => {
    const res = await raw(body);
    expect(res.status).toBe(422);
    expect(res.body.error.message).toMatch(message);
    expect(await countEvents(h)).toBe(0);
    expect((await request(h.app).get('/healthz')).status).toBe(200);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    ['GET /v1/apps/%', () => request(h.app).get('/v1/apps/%')],
    ['GET /v1/events/%zz', () => request(h.app).get('/v1/events/%zz')],
    ['a gzip body that does not inflate', () => raw('not gzip at all', { 'Content-Encoding': 'gzip' })],
  ])('when %s, then 400 BAD_REQUEST, not 500', async (_name, send) => {
    const res = await send();
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('BAD_REQUEST');
  });

  it('when a flood with a wrong token came first, then Argo CD with the right token is not rate-limited by it', async () => {
    for (let i = 0; i < 5; i++) expect((await request(h.app).post('/').set('Authorization', 'Bearer wrong-token-wrong-token').send(seedBody())).status).toBe(401);
    const right = [(await request(h.app).post('/').set(auth).send(seedBody({ failed_revision: failedRevision(1) }))).status, (await request(h.app).post('/').set(auth).send(seedBody({ failed_revision: failedRevision(2) }))).status];
    expect(right).toEqual([202, 202]);
  });

  it('when a right Bearer comes with a stale X-Webhook-Token, then it authenticates (any one form does)', async () => {
    expect((await request(h.app).post('/').set(auth).set('X-Webhook-Token', 'stale-token-stale-token').send(seedBody())).status).toBe(202);
  });

  it('when OPTIONS / is sent, then 404 like any unknown route (no CORS answer before authentication)', async () => {
    const res = await request(h.app).options('/');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('NOT_FOUND');
  });
});

describe('guessing a token is stopped, without locking out the owner (one budget per address)', () => {
  let h: Harness;
  const clock = createManualClock(Date.now());
  beforeEach(async () => {
    // TRUST_PROXY=1: each X-Forwarded-For is its own client address.
    h = await createHarness({ worker: false, clock, env: { TRUST_PROXY: '1' } });
  });
  afterEach(() => h.close());
  const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };
  const events = (address: string, headers: Record<string, string>) => request(h.app).get('/v1/events').set('X-Forwarded-For', address).set(headers);
  const metric = async (event: string) => {
    const text = (await request(h.app).get('/metrics').set('X-Forwarded-For', '198.51.100.1').set(admin)).text;
    return Number(/rollback_auth_budget_total\{event="(\w+)"\} (\d+)/g.exec(text.split('\n').find((l) => l.includes(`event="${event}"`)) ?? '')?.[2] ?? 0);
  };

  it('when one address sends 25 wrong admin tokens, then 20 get 401 and the rest 429 with Retry-After, even its right token; another address is not slowed; a minute later it may try again', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 25; i += 1) statuses.push((await events('203.0.113.9', { Authorization: `Bearer guess-${i}-0123456789` })).status);
    expect(statuses).toEqual([...Array<number>(20).fill(401), ...Array<number>(5).fill(429)]);
    const blocked = await events('203.0.113.9', admin);
    expect(blocked.status).toBe(429);
    expect(blocked.body.error).toEqual({ code: 'RATE_LIMITED', message: expect.stringMatching(/^more than 20 failed authentications a minute from this address; try again in \d+ s$/) });
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(blocked.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect((await events('203.0.113.10', admin)).status).toBe(200);
    // Said once for the address, counted in a metric.
    expect(h.logs.entries.filter((e) => e.address === '203.0.113.9' && String(e.msg).startsWith('more than 20 failed authentications a minute'))).toHaveLength(1);
    expect(await metric('exhausted')).toBe(1);
    expect(await metric('blocked')).toBe(6);
    clock.advance(60_000);
    expect((await events('203.0.113.9', admin)).status).toBe(200);
  });

  it('when wrong tokens come through the sign-in form, the webhook and the API from one address, then they spend one budget', async () => {
    for (let i = 0; i < 10; i += 1) expect((await request(h.app).post('/ui/login').set('X-Forwarded-For', '203.0.113.7').type('form').send({ name: 'eve', token: `guess-${i}` })).status).toBe(401);
    for (let i = 0; i < 5; i += 1) expect((await request(h.app).post('/v1/webhooks/argocd').set('X-Forwarded-For', '203.0.113.7').set('Authorization', `Bearer guess-${i}`).send(seedBody())).status).toBe(401);
    for (let i = 0; i < 5; i += 1) expect((await events('203.0.113.7', { 'X-Webhook-Token': `guess-${i}` })).status).toBe(401);
    const form = await request(h.app).post('/ui/login').set('X-Forwarded-For', '203.0.113.7').type('form').send({ name: 'ana', token: ADMIN_TOKEN });
    expect(form.status).toBe(429);
    expect(form.text).toMatch(/Too many wrong tokens from this address: try again in \d+ s\./);
    expect((await request(h.app).post('/v1/webhooks/argocd').set('X-Forwarded-For', '203.0.113.7').set(auth).send(seedBody())).status).toBe(429);
  });

  it('when one IPv6 client moves to a new address of its /64 for every guess, then its guesses still spend one budget; another /64 is not slowed', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 25; i += 1) statuses.push((await events(`2001:db8:1:2::${(i + 1).toString(16)}`, { Authorization: `Bearer guess-${i}-0123456789` })).status);
    expect(statuses).toEqual([...Array<number>(20).fill(401), ...Array<number>(5).fill(429)]);
    expect((await events('2001:db8:1:2:ffff:ffff:ffff:fffe', admin)).status).toBe(429);
    expect((await events('2001:db8:1:3::1', admin)).status).toBe(200);
    // Said once, naming the network.
    expect(h.logs.entries.filter((e) => e.address === '2001:db8:1:2::/64')).toHaveLength(1);
  });

  it('when the owner signs in 30 times in a minute, or a client sends no token at all, then nothing is spent', async () => {
    for (let i = 0; i < 30; i += 1) expect((await request(h.app).post('/ui/login').set('X-Forwarded-For', '203.0.113.5').type('form').send({ name: 'ana', token: ADMIN_TOKEN })).status).toBe(303);
    for (let i = 0; i < 30; i += 1) expect((await events('203.0.113.6', {})).status).toBe(401);
    expect((await events('203.0.113.6', admin)).status).toBe(200);
  });
});
