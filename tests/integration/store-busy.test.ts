import pg from 'pg';
import request from 'supertest';
import { listEvents } from '../../src/store/events.repository';
import { createPostgresDatabase } from '../support/dialects';
import { ADMIN_TOKEN, WEBHOOK_TOKEN, createHarness, failedRevision, seedBody, type Harness } from '../support/harness';

const auth = { Authorization: `Bearer ${WEBHOOK_TOKEN}` };
const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };
/** Concurrent webhooks for one app: each waits for the app's lock on a pooled connection (10 a replica). */
const BURST = 40;

/**
 * A busy pool is not an outage: while another session holds the app's rollback lock, every webhook for
 * that app holds one of the pool's 10 connections waiting for it, and the rest wait for a connection.
 * They wait up to PG_POOL_WAIT_MS; only past it do they answer 503, named busy, with Retry-After.
 */
describe('PostgreSQL under a burst (the pool busy, not down)', () => {
  let h: Harness;
  let holder: pg.Client;
  afterEach(async () => {
    await holder?.end().catch(() => undefined);
    await h?.close();
  });

  /** Holds the advisory lock the service takes for `app` (record-rollback's lockApp) for `ms`. */
  async function holdAppLock(url: string, app: string, ms: number): Promise<{ released: Promise<void> }> {
    holder = new pg.Client({ connectionString: url });
    await holder.connect();
    await holder.query('begin');
    await holder.query(`select pg_advisory_xact_lock(hashtextextended($1, 0))`, [`gitops-rollback:${app}`]);
    // Wrapped: an async function's returned promise would be awaited along with it.
    return { released: new Promise<void>((resolve) => setTimeout(() => void holder.query('commit').then(() => resolve()), ms)) };
  }

  const burst = (app: string) =>
    Promise.all(Array.from({ length: BURST }, (_, i) => request(h.app).post('/v1/webhooks/argocd').set(auth).send(seedBody({ app, failed_revision: failedRevision(i + 1) }))));

  it('when every connection is busy for 6 s, then the webhooks wait for one and are all stored (202), none told 503', async () => {
    const database = await createPostgresDatabase();
    h = await createHarness({ database, worker: false, env: { ROLLBACK_MAX_PER_WINDOW: '1000' } });
    const { released } = await holdAppLock(database.url, 'busy-app', 6000);
    const answers = await burst('busy-app');
    await released;
    expect(answers.map((a) => a.status).filter((s) => s !== 202)).toEqual([]);
    expect(await listEvents(h.store.db, { app: 'busy-app', limit: 500 })).toHaveLength(BURST);
  }, 60_000);

  it('when the wait for a connection passes PG_POOL_WAIT_MS, then 503 with Retry-After: 1, named busy in the log and /v1/status', async () => {
    const database = await createPostgresDatabase();
    h = await createHarness({ database, worker: false, env: { PG_POOL_WAIT_MS: '1000', ROLLBACK_MAX_PER_WINDOW: '1000' } });
    const { released } = await holdAppLock(database.url, 'busy-app', 3000);
    const answers = await burst('busy-app');
    await released;
    const refused = answers.filter((a) => a.status === 503);
    // The 10 holding a connection get theirs once the lock is released; the others waited 1 s for one.
    expect(refused.length).toBeGreaterThanOrEqual(BURST - 10);
    for (const answer of refused) {
      expect(answer.headers['retry-after']).toBe('1');
      expect(answer.body.error.code).toBe('STORE_UNAVAILABLE');
    }
    expect(answers.filter((a) => a.status !== 503).every((a) => a.status === 202)).toBe(true);
    expect(h.logs.entries).toContainEqual(expect.objectContaining({ level: 50, code: 'STORE_UNAVAILABLE', storeProblem: 'busy' }));
    const status = await request(h.app).get('/v1/status').set(admin);
    expect(status.body.store_problem).toMatchObject({ kind: 'busy', label: 'busy (locked, too slow to answer, or no free connection)', first_error: 'timeout exceeded when trying to connect' });
  }, 60_000);
});
