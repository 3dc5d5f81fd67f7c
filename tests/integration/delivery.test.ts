import request from 'supertest';
import { DeliveryWorker } from '../../src/delivery/delivery-worker';
import { patTokens } from '../../src/github/token-provider';
import { createGitHubClient } from '../../src/github/github-client';
import { createLogger } from '../../src/logger';
import { claimDeliveries, currentDelivery } from '../../src/store/deliveries.repository';
import { findEvent } from '../../src/store/events.repository';
import { withDispatchId } from '../../src/domain/dispatch-body';
import { FAILED, GITHUB_TOKEN, HEALTHY, WEBHOOK_TOKEN, createHarness, createScaledClock, seedBody, type Harness, type HarnessOptions } from '../support/harness';

const auth = { Authorization: `Bearer ${WEBHOOK_TOKEN}` };

describe('delivery to GitHub', () => {
  let h: Harness;
  const start = async (options: HarnessOptions = {}) => {
    h = await createHarness(options);
    return h;
  };
  const post = async (body = seedBody()): Promise<string> => {
    const res = await request(h.app).post('/v1/webhooks/argocd').set(auth).send(body);
    expect(res.status).toBe(202);
    return res.body.id as string;
  };
  const attemptsOf = async (id: string) => (await findEvent(h.store.db, id))!.attempts;

  afterEach(async () => {
    // Whatever happened in the test, the GitHub token is in no log line and every body GitHub saw was valid.
    expect(h.logs.text()).not.toContain(GITHUB_TOKEN);
    expect(h.github.received.flatMap((r) => r.schemaErrors)).toEqual([]);
    await h.close();
  });

  it('when a rollback is accepted, then GitHub receives exactly one dispatch with the documented headers and body', async () => {
    await start();
    const id = await post();
    await h.waitForStatus(id, 'delivered');

    expect(h.github.received).toHaveLength(1);
    const sent = h.github.received[0]!;
    expect(sent).toMatchObject({ owner: 'acme', repo: 'gitops', status: 204 });
    expect(sent.headers).toMatchObject({
      accept: 'application/vnd.github+json',
      'x-github-api-version': '2022-11-28',
      authorization: `Bearer ${GITHUB_TOKEN}`,
      'content-type': 'application/json',
      'user-agent': expect.stringMatching(/^gitops-rollback-webhook\/\d+\.\d+\.\d+$/),
    });
    const stored = await findEvent(h.store.db, id);
    // The stored body, with this dispatch's own id (its delivery's) added.
    expect(sent.body).toEqual({
      event_type: 'argo-degraded',
      client_payload: { app: 'podinfo-prod', failed_revision: FAILED, healthy_revision: HEALTHY, event_id: id, dispatch_id: stored!.dispatchId },
    });
    expect(stored!.dispatchId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/);
    expect(sent.rawBody).toBe(withDispatchId(stored!.event.dispatchBody, stored!.dispatchId!));
    expect(stored!.event).toMatchObject({ status: 'delivered', attempts: 1, lastError: null });
    expect(await currentDelivery(h.store.db, id)).toMatchObject({ state: 'delivered', lease_owner: null, due_at: null });
    expect(stored!.attempts).toEqual([expect.objectContaining({ attempt: 1, statusCode: 204, outcome: 'delivered', error: null })]);
    await h.waitForLog((e) => e.eventId === id && e.msg === 'delivered', 'delivered');
    const states = h.logs.entries.filter((e) => e.eventId === id).map((e) => e.msg);
    expect(states).toEqual(['queued', 'delivering', 'delivered']);
  });

  it('when GitHub answers 500, 500, then 204, then the event is delivered on the third attempt after backing off', async () => {
    await start();
    h.github.script({ status: 500 }, { status: 500 });
    const id = await post();
    await h.waitForStatus(id, 'delivered');

    const attempts = await attemptsOf(id);
    expect(attempts.map((a) => [a.statusCode, a.outcome])).toEqual([
      [500, 'retry'],
      [500, 'retry'],
      [204, 'delivered'],
    ]);
    expect(attempts[0]!.error).toBe('GitHub answered 500: Server Error');
    for (let i = 1; i < attempts.length; i++) expect(attempts[i]!.startedAt).toBeGreaterThanOrEqual(attempts[i - 1]!.nextAttemptAt!);
    expect(h.logs.entries.filter((e) => e.eventId === id && e.msg === 'retrying')).toHaveLength(2);
  });

  describe('with time scaled 1000x', () => {
    const scaled = { clock: createScaledClock(1000) };

    it('when GitHub answers 429 with retry-after: 30, then the next attempt waits 30 s', async () => {
      await start(scaled);
      h.github.script({ status: 429, headers: { 'retry-after': '30' } });
      const id = await post();
      await h.waitForStatus(id, 'delivered');
      const [first, second] = await attemptsOf(id);
      expect(first).toMatchObject({ statusCode: 429, outcome: 'retry' });
      expect(first!.nextAttemptAt).toBe(first!.finishedAt + 30_000);
      expect(second!.startedAt).toBeGreaterThanOrEqual(first!.nextAttemptAt!);
      expect(h.logs.entries).toContainEqual(expect.objectContaining({ eventId: id, msg: 'rate limited by GitHub; waiting as told' }));
    });

    it('when GitHub answers 403 with x-ratelimit-remaining: 0, then the next attempt waits until x-ratelimit-reset', async () => {
      await start(scaled);
      // Ten scaled minutes (0.6 s real) ahead, so a loaded machine cannot reach it before GitHub answers.
      const reset = Math.ceil(h.clock.now() / 1000) + 600;
      h.github.script({ status: 403, message: 'API rate limit exceeded', headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) } });
      const id = await post();
      await h.waitForStatus(id, 'delivered');
      const [first, second] = await attemptsOf(id);
      expect(first).toMatchObject({ statusCode: 403, outcome: 'retry', nextAttemptAt: reset * 1000 });
      expect(second!.startedAt).toBeGreaterThanOrEqual(reset * 1000);
    });

    it('when GitHub reports a secondary rate limit without retry-after, then the next attempt waits at least 60 s', async () => {
      await start(scaled);
      h.github.script({ status: 403, message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.' });
      const id = await post();
      await h.waitForStatus(id, 'delivered');
      const [first, second] = await attemptsOf(id);
      expect(second!.startedAt - first!.finishedAt).toBeGreaterThanOrEqual(60_000);
    });

    it('when a rate limit is announced, then other events wait for it too (one token, one limit)', async () => {
      await start(scaled);
      h.github.script({ status: 429, headers: { 'retry-after': '20' } });
      const first = await post();
      await h.github.waitFor((g) => g.received.length === 1);
      const second = await post(seedBody({ app: 'other-app' }));
      await h.waitForStatus(first, 'delivered');
      await h.waitForStatus(second, 'delivered');
      const limitedAt = (await attemptsOf(first))[0]!.finishedAt;
      expect((await attemptsOf(second))[0]!.startedAt).toBeGreaterThanOrEqual(limitedAt + 20_000);
    });
  });

  it('when rate limits repeat more often than DELIVERY_MAX_ATTEMPTS, then they do not use up the retry budget', async () => {
    await start({ clock: createScaledClock(1000), env: { DELIVERY_MAX_ATTEMPTS: '2' } });
    h.github.script({ status: 429, headers: { 'retry-after': '1' } }, { status: 429, headers: { 'retry-after': '1' } }, { status: 429, headers: { 'retry-after': '1' } });
    const id = await post();
    await h.waitForStatus(id, 'delivered');
    expect(await attemptsOf(id)).toHaveLength(4);
  });

  it.each([
    [401, 'Bad credentials', /check GH_PAT_WEBHOOK/],
    [422, 'Invalid request.', /refused the dispatch body/],
    [410, 'Repository access blocked', /gone or archived/],
    [403, 'Resource not accessible by personal access token', /Contents: read and write/],
  ])('when GitHub answers %i, then the event fails at once with GitHub message and the log names the remedy', async (status, message, remedy) => {
    await start();
    h.github.script({ status, message });
    const id = await post();
    await h.waitForStatus(id, 'failed');
    const stored = await findEvent(h.store.db, id);
    expect(stored!.event.lastError).toMatch(new RegExp(`^GitHub answered ${status}: ${message.replace('.', '\\.')}; `));
    expect(stored!.event.lastError).toMatch(remedy);
    expect(stored!.attempts).toEqual([expect.objectContaining({ statusCode: status, outcome: 'failed' })]);
    const line = await h.waitForLog((e) => e.eventId === id && e.level === 50, 'the error line');
    expect(String(line.msg)).toMatch(remedy);
    expect(h.github.received).toHaveLength(1);
  });

  it('when the repository does not exist, then GitHub answers 404 and the event fails naming REPO_OWNER and REPO_NAME', async () => {
    await start({ env: { REPO_NAME: 'no-such-repo' } });
    const id = await post();
    await h.waitForStatus(id, 'failed');
    expect((await findEvent(h.store.db, id))!.event.lastError).toBe(
      "GitHub answered 404: Not Found; check the target repository (REPO_OWNER and REPO_NAME, the route, or the Application's repoURL) and that the token can see it (GitHub answers 404 for repositories a token cannot read)",
    );
    const line = await h.waitForLog((e) => e.eventId === id && e.level === 50, 'the error line');
    expect(line).toMatchObject({ msg: expect.stringMatching(/check the target repository \(REPO_OWNER and REPO_NAME/) });
  });

  it('when GitHub does not answer within GITHUB_TIMEOUT_MS, then the attempt times out and is retried', async () => {
    await start({ env: { GITHUB_TIMEOUT_MS: '200', DELIVERY_LEASE_MS: '5000' } });
    h.github.script({ hang: true });
    const id = await post();
    await h.waitForStatus(id, 'delivered');
    const [first, second] = await attemptsOf(id);
    expect(first).toMatchObject({ statusCode: null, outcome: 'retry', error: expect.stringMatching(/timeout/i) });
    expect(second).toMatchObject({ statusCode: 204, outcome: 'delivered' });
  });

  it('when every attempt fails, then the event is failed after DELIVERY_MAX_ATTEMPTS', async () => {
    await start({ env: { DELIVERY_MAX_ATTEMPTS: '3' } });
    h.github.script({ status: 502 }, { status: 503 }, { status: 500 }, { status: 500 });
    const id = await post();
    await h.waitForStatus(id, 'failed');
    const stored = await findEvent(h.store.db, id);
    expect(stored!.attempts.map((a) => a.outcome)).toEqual(['retry', 'retry', 'failed']);
    expect(stored!.event.lastError).toMatch(/GitHub answered 500.*gave up after 3 failed attempts/);
    expect(h.github.received).toHaveLength(3);
  });

  it('when several events are due, then dispatches go one at a time, GITHUB_MIN_INTERVAL_MS apart', async () => {
    await start({ env: { GITHUB_MIN_INTERVAL_MS: '150' } });
    const ids = [await post(), await post(seedBody({ app: 'b' })), await post(seedBody({ app: 'c' }))];
    for (const id of ids) await h.waitForStatus(id, 'delivered');
    const times = h.github.received.map((r) => r.receivedAt);
    expect(times).toHaveLength(3);
    // Paced from each request's start at the sender; its arrival here lags that start by a little, more on
    // a loaded CI machine (one arrived 13 ms late beside 66 other suites). Unpaced, the gaps are a few ms.
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(120);
    expect(h.github.maxConcurrent).toBe(1);
  });

  it('when a delivered event is replayed, then it goes back to queued and GitHub receives it again', async () => {
    await start();
    const id = await post();
    await h.waitForStatus(id, 'delivered');
    const res = await request(h.app).post(`/v1/events/${id}/replay`).set('Authorization', `Bearer ${h.config.auth.adminToken}`);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ id, status: 'queued' });
    await h.github.waitFor((g) => g.accepted().length === 2);
    await h.waitForStatus(id, 'delivered');
    expect(h.github.accepted().map((r) => r.body?.client_payload?.event_id)).toEqual([id, id]);
    expect((await attemptsOf(id)).map((a) => a.attempt)).toEqual([1, 2]);
  });

  it('when a failed event is replayed, then its new delivery starts with a fresh retry budget and the old attempts stay in the history', async () => {
    await start({ env: { DELIVERY_MAX_ATTEMPTS: '2' } });
    h.github.script({ status: 502 }, { status: 502 }, { status: 502 });
    const id = await post();
    await h.waitForStatus(id, 'failed');
    expect((await findEvent(h.store.db, id))!.event).toMatchObject({ status: 'failed', attempts: 2 });
    const res = await request(h.app).post(`/v1/events/${id}/replay`).set('Authorization', `Bearer ${h.config.auth.adminToken}`);
    expect(res.status).toBe(202);
    // One 502 then 204: with the old delivery's two failures still counted, the 502 would fail it at once.
    await h.waitForStatus(id, 'delivered');
    const stored = await findEvent(h.store.db, id);
    expect(stored!.event).toMatchObject({ status: 'delivered', attempts: 2, lastError: null });
    expect(stored!.attempts.map((a) => [a.attempt, a.outcome])).toEqual([
      [1, 'retry'],
      [2, 'failed'],
      [3, 'retry'],
      [4, 'delivered'],
    ]);
    const view = (await request(h.app).get(`/v1/events/${id}`).set('Authorization', `Bearer ${h.config.auth.adminToken}`)).body as { attempts: number };
    expect(view.attempts).toBe(2);
  });

  it('when a worker holding a lease died, then another worker takes the event once the lease expires', async () => {
    await start({ worker: false });
    const id = await post();
    const claimedAt = Date.now();
    const [claimed] = await h.store.transaction((trx) => claimDeliveries(trx, h.store.dialect, h.clock.now(), 'dead-worker', 300, 1));
    expect(claimed?.event.id).toBe(id);
    const survivor = new DeliveryWorker({
      store: h.store,
      clock: h.clock,
      logger: createLogger('silent'),
      github: createGitHubClient({ apiUrl: h.github.url, tokens: patTokens(h.github.url, GITHUB_TOKEN), timeoutMs: 1000 }),
      tokenKey: 'survivor-test',
      maxAttempts: 3,
      retryBaseMs: 10,
      leaseMs: 5000,
      minIntervalMs: 0,
      pollIntervalMs: 50,
      outcomePollMs: 10_000,
      notify: false,
    });
    survivor.start();
    try {
      await h.waitForStatus(id, 'delivered');
      // The lease runs on the database's clock; this clock is real time, so the two read alike here.
      expect((await attemptsOf(id))[0]!.startedAt).toBeGreaterThanOrEqual(claimedAt + 300);
      // Three writes since the dead worker's claim: the survivor's claim, its attempt written before sending, its result.
      expect(await currentDelivery(h.store.db, id)).toMatchObject({ state: 'delivered', lease_owner: null, version: claimed!.lease.version + 3 });
    } finally {
      await survivor.stop(1000);
    }
  });

  describe('shutdown', () => {
    it('when stopped during a dispatch, then the dispatch finishes and is recorded before stop resolves', async () => {
      await start();
      h.github.script({ status: 204, delayMs: 300 });
      const id = await post();
      await h.github.waitFor((g) => g.received.length === 1);
      await h.worker!.stop(5000);
      expect((await findEvent(h.store.db, id))!.event).toMatchObject({ status: 'delivered' });
      expect(await currentDelivery(h.store.db, id)).toMatchObject({ lease_owner: null });
    });

    it('when the dispatch outlasts the shutdown timeout, then it is aborted and its lease released for the next start', async () => {
      await start();
      h.github.script({ hang: true });
      const id = await post();
      await h.github.waitFor((g) => g.received.length === 1);
      await h.worker!.stop(100);
      const stored = await findEvent(h.store.db, id);
      expect(stored!.event).toMatchObject({ status: 'retrying' });
      expect(await currentDelivery(h.store.db, id)).toMatchObject({ state: 'retrying', lease_owner: null, lease_expires_at: null });
      expect(stored!.attempts).toEqual([expect.objectContaining({ outcome: 'retry', error: expect.stringMatching(/cancel|abort/i) })]);
    });
  });
});
