import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompiledQuery } from 'kysely';
import { openStore, type Store } from '../../src/store/database';
import { needsAPersonQuery } from '../../src/store/attention.repository';

/**
 * The status page's banner reads must cost what their few rows cost, whatever the history: SQLite's plan
 * for them uses their partial index, never a scan of all events. (Written with bound parameters, the
 * needs-a-person read scanned the events table: 824 ms an overview at 1,000,000 events.)
 */
describe('query plans of the banner reads (SQLite)', () => {
  let dir: string;
  let store: Store;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'plans-'));
    store = openStore(`sqlite:${join(dir, 'plans.db')}`);
    await store.migrate();
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const planOf = async (query: CompiledQuery) => (await store.db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${query.sql}`, [...query.parameters]))).rows.map((r) => r.detail);

  it('when the overview counts and lists the rollbacks that need a person, then it reads events_needs_a_person_idx, not every event', async () => {
    for (const query of [
      needsAPersonQuery(store.db).select((eb) => eb.fn.countAll().as('n')).compile(),
      needsAPersonQuery(store.db).select(['e.id']).orderBy('e.updated_at', 'desc').limit(5).compile(),
    ]) {
      const plan = await planOf(query);
      expect(plan).toContainEqual(expect.stringMatching(/^SCAN e USING INDEX events_needs_a_person_idx/));
      expect(plan).not.toContain('SCAN e');
    }
  });
});
