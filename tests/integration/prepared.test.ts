import { sql } from 'kysely';
import { openStore, type Store } from '../../src/store/database';
import { prepared } from '../../src/store/prepared';
import { DIALECTS, type TestDatabase } from '../support/dialects';

/** Apps as the queries below find them, built by Kysely on every call: what a prepared query must answer. */
const built = (store: Store, p: { names: string[]; since: number }) =>
  store.db.selectFrom('apps').select(['app', 'first_seen_at']).where('app', 'in', p.names).where('first_seen_at', '>=', p.since).orderBy('app').limit(5).execute();

describe.each(DIALECTS)('prepared queries on %s', (_dialect, createDatabase) => {
  let database: TestDatabase;
  let store: Store;

  beforeEach(async () => {
    database = await createDatabase();
    store = openStore(database.url);
    await store.migrate();
    await store.db
      .insertInto('apps')
      .values(['a', 'b', 'c', 'd'].map((app, i) => ({ app, first_seen_at: 1000 * (i + 1) })))
      .execute();
  });
  afterEach(async () => {
    await store.close();
    await database.drop();
  });

  it('when run again with other values and lists of other lengths, then each answer is what the query built for those values answers', async () => {
    const appsSeen = prepared((db, p: { names: string[]; since: number }) =>
      db.selectFrom('apps').select(['app', 'first_seen_at']).where('app', 'in', p.names).where('first_seen_at', '>=', p.since).orderBy('app').limit(5),
    );
    const cases = [
      { names: ['a', 'b', 'c'], since: 0 },
      { names: ['a', 'b', 'c'], since: 2000 },
      { names: ['d'], since: 0 },
      { names: ['b', 'd'], since: 3000 },
      { names: ['x', 'c', 'a', 'b'], since: 1500 },
    ];
    for (const values of cases) expect(await appsSeen(store.db, values)).toEqual(await built(store, values));
    // Inside a transaction (SQLite: a group commit's savepoint; PostgreSQL: its own connection).
    const inside = await store.transaction(async (trx) => {
      await prepared((db, p: { app: string; at: number }) => db.insertInto('apps').values({ app: p.app, first_seen_at: p.at }))(trx, { app: 'e', at: 5000 });
      return appsSeen(trx, { names: ['e', 'a'], since: 0 });
    });
    expect(inside).toEqual([
      { app: 'a', first_seen_at: 1000 },
      { app: 'e', first_seen_at: 5000 },
    ]);
  });

  it('when the query reads a value instead of binding it, then its first run fails and names the value', async () => {
    // Branching on a value would build one shape for every later value.
    const branches = prepared((db, p: { app: string }) => db.selectFrom('apps').select('app').where('app', '=', p.app === '' ? 'none' : 'a'));
    await expect(branches(store.db, { app: 'b' })).rejects.toThrow(/prepared query: app not bound as a value/);
    // Written into the text, it would be the stand-in's text for ever.
    const inlined = prepared((db, p: { app: string }) => db.selectFrom('apps').select('app').where('app', '=', sql.lit(p.app)));
    await expect(inlined(store.db, { app: 'b' })).rejects.toThrow(/prepared query: app not bound as a value/);
  });

  it('when a value is missing, then the run fails and names it, and nothing is sent with a hole in it', async () => {
    const byName = prepared((db, p: { app: string }) => db.selectFrom('apps').select('app').where('app', '=', p.app));
    expect(await byName(store.db, { app: 'c' })).toEqual([{ app: 'c' }]);
    await expect(byName(store.db, { app: undefined as unknown as string })).rejects.toThrow(/no value for app/);
  });
});
