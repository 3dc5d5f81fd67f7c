import request from 'supertest';
import { createDatabaseClock, sleepReal, type Clock, type DatabaseClock } from '../../src/clock';
import { createLogger } from '../../src/logger';
import { replicaClock, startService, type RunningService } from '../../src/service';
import { openStore, type Store } from '../../src/store/database';
import { readDatabaseNow } from '../../src/store/leased-work';
import { createPostgresDatabase, type TestDatabase } from '../support/dialects';
import { LogCapture, WEBHOOK_TOKEN, createHarness, failedRevision, seedBody, type Harness } from '../support/harness';

const auth = { Authorization: `Bearer ${WEBHOOK_TOKEN}` };
/** Replica B's own clock: 90 s ahead of the database's (and of replica A's). */
const AHEAD_MS = 90_000;
const aheadClock: Clock = { now: () => Date.now() + AHEAD_MS, sleep: sleepReal };

describe('createDatabaseClock', () => {
  it("when the database's clock differs, then now() is the base clock plus the offset measured at the round trip's midpoint, and sync() measures again", async () => {
    let base = 1_000_000;
    const manual: Clock = { now: () => base, sleep: sleepReal };
    let databaseAt = 1_090_000;
    const clock = await createDatabaseClock(manual, () => {
      base += 10; // the query's round trip: 10 ms
      return Promise.resolve(databaseAt);
    });
    try {
      // Asked at 1,000,000, answered at 1,000,010: the database read 1,090,000 at 1,000,005.
      expect(clock.offsetMs).toBe(89_995);
      expect(clock.now()).toBe(1_000_010 + 89_995);
      databaseAt = 1_000_020;
      await clock.sync();
      expect(clock.offsetMs).toBe(5);
    } finally {
      clock.stop();
    }
  });
});

/**
 * Two replicas on one PostgreSQL database whose clocks disagree by 90 s: GitHub's wait, announced to one
 * of them, holds for the other, because due times and the token's pace are written and compared on the
 * database's clock (each replica's DatabaseClock), not on each replica's own.
 */
describe('replicas whose clocks differ, on PostgreSQL', () => {
  let database: TestDatabase;
  let a: Harness;
  let b: RunningService | undefined;
  let reader: Store;

  beforeEach(async () => {
    database = await createPostgresDatabase();
    reader = openStore(database.url);
  });
  afterEach(async () => {
    await b?.stop();
    b = undefined;
    await reader.close();
    await a.close();
  });

  it("when GitHub tells replica A to wait 3 s, then replica B, 90 s ahead, does not dispatch with that token before GitHub's time", async () => {
    a = await createHarness({ database, env: { GITHUB_MIN_INTERVAL_MS: '0' } });
    a.github.script({ status: 429, headers: { 'retry-after': '3' }, message: 'You have exceeded a secondary rate limit.' });
    expect((await request(a.app).post('/v1/webhooks/argocd').set(auth).send(seedBody({ app: 'one', failed_revision: failedRevision(1) }))).status).toBe(202);
    await a.github.waitFor((g) => g.received.length === 1);
    const limitedAt = a.github.received[0]!.receivedAt;

    const clock = await createDatabaseClock(aheadClock, () => readDatabaseNow(reader.db, reader.dialect));
    expect(clock.offsetMs).toBeLessThan(-AHEAD_MS + 1000);
    b = await startService({ ...a.config, http: { ...a.config.http, host: '127.0.0.1', port: 0 } }, createLogger('warn', new LogCapture()), { clock, wiringCheck: false, pollIntervalMs: 50 });
    expect((await request(b.app).post('/v1/webhooks/argocd').set(auth).send(seedBody({ app: 'two', failed_revision: failedRevision(2) }))).status).toBe(202);

    await a.github.waitFor((g) => g.accepted().length === 2, 15_000);
    const after = a.github.received.slice(1).map((d) => d.receivedAt - limitedAt);
    // Nothing was sent inside GitHub's 3 s (a few ms allowed for the two clocks' measurement).
    expect(Math.min(...after)).toBeGreaterThanOrEqual(3000 - 50);
  });

  it("when a replica's own clock is 90 s ahead, then the service's clock (replicaClock) is the database's, and it says so once with the remedy", async () => {
    a = await createHarness({ database, worker: false });
    const logs = new LogCapture();
    const clock = await replicaClock(reader, createLogger('info', logs), aheadClock);
    try {
      expect(Math.abs(clock.now() - (await readDatabaseNow(reader.db, reader.dialect)))).toBeLessThan(1000);
      expect(logs.entries.filter((e) => e.component === 'clock').map((e) => e.msg)).toEqual([
        expect.stringMatching(/^this machine's clock is 90\.\d s ahead of the database's: due times, the GitHub pace and loop-guard windows use the database's clock \(check NTP on this machine\)$/),
      ]);
    } finally {
      (clock as DatabaseClock).stop();
    }
  });
});
