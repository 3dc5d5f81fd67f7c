import request from 'supertest';
import { listEvents } from '../../src/store/events.repository';
import { singleSource, toStateBody } from '../support/argocd-fixtures';
import { DIALECTS } from '../support/dialects';
import { ADMIN_TOKEN, WEBHOOK_TOKEN, createHarness, failedRevision, seedBody, type Harness } from '../support/harness';

const webhook = { Authorization: `Bearer ${WEBHOOK_TOKEN}` };
const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };

/**
 * Inputs no route reads are refused as bad input, the same on both stores: a NUL character anywhere (which
 * PostgreSQL's text cannot hold: it answered 500 there and took it on SQLite), bracketed or repeated query
 * parameters (which the query parser left as names no route reads, so the filter meant was dropped and
 * the whole list came back).
 */
describe.each(DIALECTS)('odd input on %s', (_dialect, createDatabase) => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness({ worker: false, database: await createDatabase() });
  });
  afterEach(() => h.close());

  it.each([
    ['event_type', () => ({ event_type: 'argo\u0000degraded', client_payload: { failed_revision: failedRevision(1), app: 'web' } }), /^event_type: contains a NUL character/],
    ['a payload extra', () => seedBody({ note: 'a\u0000b' }), /^client_payload\.note: contains a NUL character/],
    ['a key', () => ({ client_payload: { failed_revision: failedRevision(1), ['x\u0000']: 1 } }), /^client_payload: contains a NUL character/],
    [
      "an Application's source path",
      () => {
        const body = JSON.stringify(toStateBody(singleSource()));
        expect(body).toMatch(/"path":"[^"]+"/);
        return JSON.parse(body.replace(/"path":"([^"]+)"/, '"path":"$1\\u0000x"')) as object;
      },
      /contains a NUL character/,
    ],
  ])('when %s carries a NUL character, then 422 naming where, and nothing is stored', async (_name, body, message) => {
    const res = await request(h.app).post('/v1/webhooks/argocd').set(webhook).send(body());
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'INVALID_PAYLOAD', message: expect.stringMatching(message) });
    expect(await listEvents(h.store.db, { limit: 10 })).toEqual([]);
  });

  it('when a path or a query value carries %00, then 404 or 422 naming it, never 500', async () => {
    expect((await request(h.app).get('/v1/apps/%00').set(admin)).body.error).toEqual({ code: 'NOT_FOUND', message: 'the path contains a NUL character (%00)' });
    expect((await request(h.app).post('/v1/apps/web%00/pause').set(admin).send({ reason: 'x', by: 'y' })).status).toBe(404);
    const query = await request(h.app).get('/v1/events?app=%00').set(admin);
    expect([query.status, query.body.error.message]).toEqual([422, 'query parameter app: contains a NUL character (%00)']);
    const reason = await request(h.app).post('/v1/apps/web/pause').set(admin).send({ reason: 'a\u0000b', by: 'y', allow_unseen: true });
    expect([reason.status, reason.body.error.message]).toEqual([422, 'reason: contains a NUL character (\\u0000), which is not accepted']);
  });

  it.each([
    ['/v1/events?app[]=x', 'query parameter app[]: brackets are not read; send app=<value> once'],
    ['/v1/events?before[x]=1', 'query parameter before[x]: brackets are not read; send before=<value> once'],
    ['/v1/events?app=a&app=b', 'query parameter app: given more than once; send it once'],
    ['/v1/apps?limit[]=5', 'query parameter limit[]: brackets are not read; send limit=<value> once'],
  ])('when %s, then 422 naming the parameter, not the unfiltered list', async (url, message) => {
    expect((await request(h.app).post('/v1/webhooks/argocd').set(webhook).send(seedBody({ app: 'other' }))).status).toBe(202);
    const res = await request(h.app).get(url).set(admin);
    expect([res.status, res.body.error?.message]).toEqual([422, message]);
  });
});
