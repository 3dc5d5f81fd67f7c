import { sql } from 'kysely';
import { systemClock, type Clock } from '../../src/clock';
import { DeliveryWorker } from '../../src/delivery/delivery-worker';
import { createGitHubClient } from '../../src/github/github-client';
import { patTokens } from '../../src/github/token-provider';
import { createLogger } from '../../src/logger';
import { openStore, type Store } from '../../src/store/database';
import { openDelivery } from '../../src/store/deliveries.repository';
import { insertEvent } from '../../src/store/events.repository';
import { LeaseLostError, claimWork, completeWork, leaseOf, releaseLeases, renewLease, type Lease, type WorkTable } from '../../src/store/leased-work';
import { enqueueNotification } from '../../src/store/notifications.repository';
import { DIALECTS, type TestDatabase } from '../support/dialects';
import request from 'supertest';
import { GITHUB_TOKEN, WEBHOOK_TOKEN, createHarness, seedBody, type Harness } from '../support/harness';
import { until } from '../support/until';

const SKEW_MS = 30_000;
/** A replica whose clock runs 30 s ahead of the others'. */
const aheadBy = (base: Clock, ms: number): Clock => ({ now: () => base.now() + ms, sleep: (wait, signal) => base.sleep(wait, signal) });

/**
 * The one leased-work primitive, on every table of work and both dialects: a live lease is never taken,
 * whatever the claimer's clock says (leases run on the database's clock); a holder whose lease was taken
 * over cannot renew or complete, and writes nothing.
 */
describe.each(DIALECTS)('leased work on %s', (_dialect, createDatabase) => {
  let database: TestDatabase;
  let a: Store;
  let b: Store;

  beforeEach(async () => {
    database = await createDatabase();
    a = openStore(database.url);
    await a.migrate();
    b = openStore(database.url);
  });
  afterEach(async () => {
    await b.close();
    await a.close();
    await database.drop();
  });

  const now = Date.now();
  /** One due item in `table`. */
  async function seed(table: WorkTable): Promise<void> {
    const eventId = '00000000-0000-7000-8000-000000000001';
    if (table === 'notifications') {
      await enqueueNotification(a.db, true, { kind: 'suppressed', app: 'podinfo-prod', eventId: null, failedRevision: 'f'.repeat(40), healthyRevision: null, reason: 'r', link: null, at: now });
      return;
    }
    if (table === 'dispatch_slots') {
      await a.db.insertInto('dispatch_slots').values({ token_key: 'token', due_at: now, lease_owner: null, lease_expires_at: null, version: 0 }).execute();
      return;
    }
    await insertEvent(a.db, { id: eventId, app: 'podinfo-prod', failedRevision: 'f'.repeat(40), healthyRevision: 'a'.repeat(40), target: { owner: 'acme', repo: 'gitops' }, eventType: 'argo-degraded', dispatchBody: '{}', status: 'queued', requestId: null, targetReason: null, suppressionReason: null }, now);
    const deliveryId = (await openDelivery(a.db, eventId, { state: 'queued', now, newEvent: true })).id;
    if (table === 'outcome_follows') {
      await a.db
        .insertInto('outcome_follows')
        .values({ id: deliveryId, event_id: eventId, seq: 1, delivery_id: deliveryId, outcome: 'awaiting_run', reason: 'r', delivered_at: now, poll_ms: 10, run_id: null, run_url: null, run_seen_open_at: null, run_ended_at: null, cancelled_runs: '', redispatches: 0, restore_commit: null, restore_url: null, pull_request_url: null, verified_report_id: null, closed_as: null, created_at: now, updated_at: now, due_at: now, lease_owner: null, lease_expires_at: null, version: 0 })
        .execute();
    }
  }
  const claim = async (store: Store, table: WorkTable, owner: string, clockNow: number, leaseMs: number): Promise<Lease | undefined> => {
    const [row] = await claimWork(store.db, store.dialect, table, { owner, leaseMs, now: clockNow });
    return row ? leaseOf(table, row) : undefined;
  };
  const lostError = (promise: Promise<unknown>) =>
    promise.then(
      () => undefined,
      (error: unknown) => error,
    );

  describe.each<WorkTable>(['deliveries', 'outcome_follows', 'notifications', 'dispatch_slots'])('%s', (table) => {
    it("when a replica whose clock is 30 s ahead claims, then it does not take another replica's live lease", async () => {
      await seed(table);
      const held = await claim(a, table, 'replica-a', now, 10_000);
      expect(held).toMatchObject({ owner: 'replica-a', version: 1 });
      // 30 s ahead it is past the 10 s lease on its own clock; on the database's clock it is not.
      expect(await claim(b, table, 'replica-b', now + SKEW_MS, 10_000)).toBeUndefined();
      expect(await claim(b, table, 'replica-b', now + 10 * SKEW_MS, 10_000)).toBeUndefined();
      await completeWork(a.db, held!, { due_at: now });
      expect(await claim(b, table, 'replica-b', now + SKEW_MS, 10_000)).toMatchObject({ owner: 'replica-b', version: 3 });
    });

    it('when a lease expires and another replica takes the item, then the first holder can neither renew nor complete, and writes nothing', async () => {
      await seed(table);
      const stale = (await claim(a, table, 'replica-a', now, 200))!;
      let taken: Lease | undefined;
      await until(async () => (taken = await claim(b, table, 'replica-b', now, 60_000)) !== undefined, 'the expired lease taken');
      expect(taken).toMatchObject({ owner: 'replica-b', version: stale.version + 1 });
      expect(await lostError(renewLease(a.db, a.dialect, stale, 60_000))).toBeInstanceOf(LeaseLostError);
      expect(await lostError(completeWork(a.db, stale, { due_at: now + 1 }))).toBeInstanceOf(LeaseLostError);
      const row = (await sql<{ lease_owner: string; due_at: number | string | null }>`select lease_owner, due_at from ${sql.table(table)}`.execute(a.db)).rows[0]!;
      expect({ owner: row.lease_owner, due: Number(row.due_at) }).toEqual({ owner: 'replica-b', due: now });
      const renewed = await renewLease(b.db, b.dialect, taken!, 60_000);
      await expect(completeWork(b.db, renewed, { due_at: now + 2 })).resolves.toMatchObject({ lease_owner: null, version: renewed.version + 1 });
    });

    it('when a replica stops, then it gives its leases back and the item is due again at once', async () => {
      await seed(table);
      await claim(a, table, 'replica-a', now, 60_000);
      expect(await releaseLeases(a.db, table, 'replica-a')).toBe(1);
      expect(await claim(b, table, 'replica-b', now, 60_000)).toMatchObject({ owner: 'replica-b' });
    });
  });
});

describe.each(DIALECTS)('two delivery workers with skewed clocks on %s', (_dialect, createDatabase) => {
  let h: Harness;
  let other: Store;
  let ahead: DeliveryWorker;

  beforeEach(async () => {
    h = await createHarness({ database: await createDatabase(), clock: systemClock, env: { DELIVERY_LEASE_MS: '15000' } });
    other = openStore(h.config.databaseUrl);
    ahead = new DeliveryWorker({
      store: other,
      clock: aheadBy(systemClock, SKEW_MS),
      logger: createLogger('silent'),
      github: createGitHubClient({ apiUrl: h.github.url, tokens: patTokens(h.github.url, GITHUB_TOKEN), timeoutMs: 10_000 }),
      // Its own pace slot, so nothing but the delivery's lease stands between it and the event.
      tokenKey: 'replica-ahead',
      maxAttempts: 3,
      retryBaseMs: 10,
      leaseMs: 15_000,
      minIntervalMs: 0,
      pollIntervalMs: 20,
      outcomePollMs: 60_000,
      notify: false,
      owner: 'replica-ahead',
    });
  });
  afterEach(async () => {
    await ahead.stop(1000);
    await other.close();
    await h.close();
  });

  it('when one replica is mid-dispatch and another, 30 s ahead, polls the queue, then the event is dispatched once', async () => {
    h.github.script({ status: 204, delayMs: 1500 });
    const res = await request(h.app).post('/v1/webhooks/argocd').set('Authorization', `Bearer ${WEBHOOK_TOKEN}`).send(seedBody());
    expect(res.status).toBe(202);
    await h.github.waitFor((g) => g.received.length === 1);
    // The first replica holds the event for 15 s of database time; the second sees 45 s on its own clock.
    ahead.start();
    await h.waitForStatus(res.body.id as string, 'delivered');
    await ahead.stop(1000);
    expect(h.github.received).toHaveLength(1);
    // Three writes: the claim, the attempt written before sending, its result.
    expect((await other.db.selectFrom('deliveries').select(['state', 'attempts', 'version']).execute())[0]).toEqual({ state: 'delivered', attempts: 1, version: 3 });
  });
});
