import { openStore, type Store } from '../../src/store/database';
import { insertEvent, type NewEvent } from '../../src/store/events.repository';
import { pauseApp } from '../../src/store/pauses.repository';
import { insertReport } from '../../src/store/reports.repository';
import { readRollbackFacts } from '../../src/store/rollback-facts.repository';
import { DIALECTS, type TestDatabase } from '../support/dialects';
import { eventMaker } from '../support/new-events';

const FAILED = '9f1c2e7d4b8a6f3e0d5c1b9a7e2f4d6c8b0a3e51';
const OTHER = 'a41d7c0e5f9b2d8c6e3a1f7b4d0c9e2a8b6f5d13';
const APP = 'podinfo-prod';
const KEY = { owner: 'acme', repo: 'gitops', app: APP, failedRevision: FAILED };

describe.each(DIALECTS)('the accept path\'s facts in one read (readRollbackFacts) on %s', (_dialect, createDatabase) => {
  let database: TestDatabase;
  let store: Store;
  const make = eventMaker();
  const event = (failedRevision: string, status: NewEvent['status'], app = APP): NewEvent => make(status, app, failedRevision);

  beforeEach(async () => {
    database = await createDatabase();
    store = openStore(database.url);
    await store.migrate();
  });
  afterEach(async () => {
    await store.close();
    await database.drop();
  });

  it('when the store knows nothing of the app, then no rollback, no count, no pause and no id lengths', async () => {
    expect(await readRollbackFacts(store.db, KEY, 0)).toEqual({ existingId: undefined, recentRollbacks: 0, paused: undefined, idLengths: { shortest: null, longest: null } });
  });

  it('when the app has rollbacks, a refusal, a pause and ids of two lengths, then each fact is what its own read says', async () => {
    const stored = event(FAILED, 'queued');
    await insertEvent(store.db, stored, 1000);
    await insertEvent(store.db, event(OTHER, 'queued'), 2000);
    // Refused (suppressed) requests are not rollbacks: neither the key's nor counted.
    await insertEvent(store.db, event('c0ffee00000000000000000000000000000000a1', 'suppressed'), 3000);
    // Another app's rollbacks are not counted.
    await insertEvent(store.db, event(OTHER, 'queued', 'other-app'), 3000);
    await pauseApp(store.db, { app: APP, reason: 'database migration', by: 'ops@example.com', since: 4000 });
    await insertReport(store.db, { id: '00000000-0000-7000-8000-000000000901', app: APP, revision: OTHER.slice(0, 7), status: 'Healthy', source: 'health_report', eventId: null }, 5000);
    await insertReport(store.db, { id: '00000000-0000-7000-8000-000000000902', app: APP, revision: FAILED, status: 'Degraded', source: 'health_report', eventId: null }, 5000);

    expect(await readRollbackFacts(store.db, KEY, 0)).toEqual({
      existingId: stored.id,
      recentRollbacks: 2,
      paused: { app: APP, reason: 'database migration', by: 'ops@example.com', since: 4000 },
      idLengths: { shortest: 7, longest: 40 },
    });
    // The loop guard's window: only what was created at or after `since`.
    expect((await readRollbackFacts(store.db, KEY, 1500)).recentRollbacks).toBe(1);
    // Another repository's key has no rollback stored.
    expect((await readRollbackFacts(store.db, { ...KEY, repo: 'elsewhere' }, 0)).existingId).toBeUndefined();
  });
});
