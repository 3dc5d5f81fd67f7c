import fc from 'fast-check';
import request from 'supertest';
import { ERROR_CATALOGUE, type ErrorCode } from '../../src/errors';
import { listEvents } from '../../src/store/events.repository';
import { REV_8, REV_9, singleSource, toStateBody } from '../support/argocd-fixtures';
import { WEBHOOK_TOKEN, createHarness, type Harness } from '../support/harness';

/**
 * Property: whatever the body and headers, the webhook answers from the error table (or 200/202), the
 * process keeps answering, and a refused request stores no event. Fixed seed and bounded runs, so a
 * failure is reproducible and the suite's time is known.
 */
describe('webhook fuzzing (fast-check, fixed seed)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ worker: false, env: { INGRESS_RATE_LIMIT_PER_MINUTE: '0', ROLLBACK_MAX_PER_WINDOW: '1000' } });
  });
  afterAll(() => h.close());

  const hex = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: n, maxLength: n });
  const anyValue = fc.oneof(fc.jsonValue({ maxDepth: 4 }), fc.constant('<no value>'), fc.constant(null), hex(40), hex(7));
  const deep = fc.integer({ min: 1, max: 6000 }).map((n) => `${'['.repeat(n)}{"constructor":1}${']'.repeat(n)}`);
  const escapedKey = fc.constantFrom('{"\\u005f_proto__":{}}', '{"client_payload":{"c\\u006fnstructor":1,"failed_revision":"9f1c2e7"}}', '{"pr\\u006ftotype":1}');
  const shapeA = fc.record({ event_type: fc.option(fc.string({ maxLength: 120 })), client_payload: fc.dictionary(fc.constantFrom('failed_revision', 'healthy_revision', 'app', 'event_id', 'x', '__proto__', 'constructor'), anyValue) }, { requiredKeys: ['client_payload'] });
  const shapeB = fc.record({ app: anyValue, status: fc.constantFrom('Healthy', 'Degraded', 'Progressing', 'Broken', ''), revision: anyValue });
  const shapeC = fc.record({ health: fc.record({ status: fc.constantFrom('Healthy', 'Degraded', 'Unknown') }), history: fc.option(fc.array(fc.record({ id: fc.integer(), revision: fc.oneof(hex(40), fc.constant(REV_8)) }), { maxLength: 12 })), revision: fc.constantFrom(REV_9, REV_8, 'zz') }).map(
    ({ health, history, revision }) => {
      const body = toStateBody(singleSource()) as { health: unknown; history: unknown; operationState: { syncResult: { revision: string } } };
      body.health = health;
      body.history = history;
      body.operationState.syncResult.revision = revision;
      return body;
    },
  );
  const body = fc.oneof(
    fc.json({ maxDepth: 5 }),
    fc.string({ maxLength: 200 }),
    deep,
    escapedKey,
    shapeA.map((v) => JSON.stringify(v)),
    shapeB.map((v) => JSON.stringify(v)),
    shapeC.map((v) => JSON.stringify(v)),
  );
  const headers = fc.record({
    authorization: fc.constantFrom(`Bearer ${WEBHOOK_TOKEN}`, 'Bearer wrong-token-wrong-token', `Basic ${Buffer.from(`argocd:${WEBHOOK_TOKEN}`).toString('base64')}`, 'Basic !!!', 'Token x', undefined),
    'x-webhook-token': fc.constantFrom(undefined, WEBHOOK_TOKEN, 'stale-token-stale-token'),
    'content-type': fc.constantFrom(undefined, 'application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x'),
    'content-encoding': fc.constantFrom(undefined, undefined, 'gzip', 'identity', 'br'),
  });
  const statuses = new Set<number>([200, 202, ...Object.values(ERROR_CATALOGUE).map((e) => e.status)]);

  it('when 400 random requests arrive, then every answer comes from the table, the process keeps answering, and refused requests store no event', async () => {
    await fc.assert(
      fc.asyncProperty(body, headers, fc.constantFrom('/', '/v1/webhooks/argocd'), async (text, hdrs, path) => {
        const before = (await listEvents(h.store.db, { limit: 500 })).length;
        let req = request(h.app).post(path);
        for (const [name, value] of Object.entries(hdrs)) if (value !== undefined) req = req.set(name, value);
        const res = await req.send(Buffer.from(text));
        expect(statuses.has(res.status)).toBe(true);
        if (res.status >= 400) {
          const code = (res.body as { error?: { code?: string } }).error?.code as ErrorCode;
          expect(ERROR_CATALOGUE[code]?.status).toBe(res.status);
          expect(JSON.stringify(res.body)).not.toMatch(/\n\s+at /);
          // A loop-guard refusal is stored on purpose (the audit trail); nothing else that is refused is.
          if (code !== 'ROLLBACK_SUPPRESSED') expect((await listEvents(h.store.db, { limit: 500 })).length).toBe(before);
        }
      }),
      { seed: 20261129, numRuns: 400 },
    );
    expect((await request(h.app).get('/healthz')).status).toBe(200);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
