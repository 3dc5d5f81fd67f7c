import SQLiteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { groupCommit, openStore, type Store } from '../../src/store/database';
import type { Database } from '../../src/store/schema';
import { WrongHandleError } from '../../src/store/transaction-guard';
import { UnconfirmedWriteError, storeProblemOf } from '../../src/store/store-error';
import { toAppError } from '../../src/http/middleware/error-handler';
import { claimDeliveries, openDelivery } from '../../src/store/deliveries.repository';
import { acquireSlot, releaseSlot } from '../../src/store/dispatch-slots.repository';
import { insertEvent, isUniqueViolation, type NewEvent } from '../../src/store/events.repository';
import { readDatabaseNow, type Lease } from '../../src/store/leased-work';
import { DIALECTS, createPostgresDatabase, type TestDatabase } from '../support/dialects';
import { eventMaker } from '../support/new-events';
import { until } from '../support/until';


describe.each(DIALECTS)('store on %s', (dialect, createDatabase) => {
  let database: TestDatabase;
  let store: Store;
  const extra: Store[] = [];
  /** Another process's view of the same database: its own connection(s). */
  const another = () => {
    const s = openStore(database.url);
    extra.push(s);
    return s;
  };

  beforeEach(async () => {
    database = await createDatabase();
    store = openStore(database.url);
    await store.migrate();
  });
  afterEach(async () => {
    for (const s of extra.splice(0)) await s.close();
    await store.close();
    await database.drop();
  });

  const event = eventMaker();

  it('when bigint columns, counts and the database clock are read, then they arrive as numbers (no call site converts)', async () => {
    const at = 1_796_000_000_123;
    await insertEvent(store.db, event('queued'), at);
    const row = await store.db.selectFrom('events').select(['created_at', 'attempts']).executeTakeFirstOrThrow();
    expect(row).toEqual({ created_at: at, attempts: 0 });
    const counted = await store.db.selectFrom('events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(counted.n).toBe(1);
    const { rows } = await sql<{ total: number; newest: number }>`select count(*) as total, max(created_at) as newest from events`.execute(store.db);
    expect(rows[0]).toEqual({ total: 1, newest: at });
    expect(typeof (await readDatabaseNow(store.db, store.dialect))).toBe('number');
  });

  it('when two rollbacks with the same key are inserted, then the second is a unique violation (what settles races)', async () => {
    await insertEvent(store.db, event('queued'), 1);
    const error = await insertEvent(store.db, event('queued'), 2).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeDefined();
    expect(isUniqueViolation(error)).toBe(true);
  });

  it('when the first of them was suppressed, then the key is still free', async () => {
    await insertEvent(store.db, event('suppressed'), 1);
    await insertEvent(store.db, event('suppressed'), 2);
    await expect(insertEvent(store.db, event('queued'), 3)).resolves.toBeUndefined();
  });

  it('when the same key is for another app, then it is another rollback', async () => {
    await insertEvent(store.db, event('queued'), 1);
    await expect(insertEvent(store.db, event('queued', 'other'), 2)).resolves.toBeUndefined();
  });

  it('when migrations run twice, then the second run changes nothing', async () => {
    await expect(store.migrate()).resolves.toBeUndefined();
  });

  /** An event with its first delivery, as the ingress stores it. */
  const queue = async (e: NewEvent, now: number) => {
    await insertEvent(store.db, e, now);
    await openDelivery(store.db, e.id, { state: 'queued', now, newEvent: true });
  };
  it('when four workers claim at once, then every due delivery is claimed exactly once', async () => {
    for (let i = 0; i < 40; i++) await queue(event('queued', `app-${i}`), 1000 + i);
    const workers = [store, another(), another(), another()];
    const claimed: string[] = [];
    await Promise.all(
      workers.map(async (s, w) => {
        for (;;) {
          const batch = await s.transaction((trx) => claimDeliveries(trx, s.dialect, 5000, `worker-${w}`, 60_000, 3));
          if (batch.length === 0) return;
          claimed.push(...batch.map((d) => d.event.id));
        }
      }),
    );
    expect(claimed).toHaveLength(40);
    expect(new Set(claimed).size).toBe(40);
  });

  it('when a lease has expired on the database clock, then the delivery can be claimed again, and not before', async () => {
    await queue(event('queued'), 1000);
    const claim = (owner: string) => store.transaction((trx) => claimDeliveries(trx, store.dialect, 1000, owner, 300, 1));
    const [first] = await claim('dead');
    expect(first).toBeDefined();
    expect(await claim('alive')).toHaveLength(0);
    let again: Awaited<ReturnType<typeof claim>> = [];
    await until(async () => (again = await claim('alive')).length > 0, 'the expired lease taken');
    expect(again[0]!.lease).toMatchObject({ owner: 'alive', version: first!.lease.version + 1 });
  });

  describe('dispatch slot (one token, one pace, across replicas)', () => {
    const take = async (owner: string, now: number, holdMs = 60_000, s: Store = store) => acquireSlot(s.db, s.dialect, 'token', owner, now, holdMs);
    const leaseOf = (attempt: Awaited<ReturnType<typeof take>>): Lease<'dispatch_slots'> => {
      if (!attempt.acquired) throw new Error('expected the slot');
      return attempt.lease;
    };

    it('when one worker holds the slot, then another waits until it is released and the interval has passed', async () => {
      const held = leaseOf(await take('a', 1000));
      expect(await take('b', 1001)).toEqual({ acquired: false, retryAt: expect.any(Number) });
      expect(await releaseSlot(store.db, store.dialect, held, 2000)).toBe(true);
      expect(await take('b', 1999)).toEqual({ acquired: false, retryAt: 2000 });
      expect(await take('b', 2000)).toMatchObject({ acquired: true });
    });

    it('when the holder died, then the slot is free once its hold expires, and its late release frees nothing', async () => {
      const dead = leaseOf(await take('dead', 1000, 200));
      expect(await take('b', 1000, 60_000)).toMatchObject({ acquired: false });
      await until(async () => (await take('b', 1000, 60_000)).acquired, 'the expired hold taken');
      // The dead holder's late release must not free the new holder's slot; it only keeps the pace.
      expect(await releaseSlot(store.db, store.dialect, dead, 5000)).toBe(false);
      expect(await take('c', 5000)).toMatchObject({ acquired: false });
    });

    it('when a rate limit set a later time, then a release asking for an earlier one does not shorten it', async () => {
      await releaseSlot(store.db, store.dialect, leaseOf(await take('a', 1000, 500)), 90_000);
      await releaseSlot(store.db, store.dialect, leaseOf(await take('a', 90_000, 500)), 10);
      expect(await take('b', 89_999, 500)).toMatchObject({ acquired: false, retryAt: 90_000 });
    });

    it('when ten replicas ask for a new token at once, then exactly one gets it', async () => {
      const stores = [store, ...Array.from({ length: 9 }, another)];
      const results = await Promise.all(stores.map((s, i) => acquireSlot(s.db, s.dialect, 'fresh', `w${i}`, 1000, 60_000)));
      expect(results.filter((r) => r.acquired)).toHaveLength(1);
    });
  });

  it('when this process or another commits a write, then the change stamp changes (on SQLite it stays while nothing is written)', async () => {
    const other = another();
    await other.migrate();
    const before = await store.changeStamp();
    if (dialect === 'sqlite') {
      // PostgreSQL's stamp is the cluster's snapshot: other suites' writes move it too.
      await store.db.selectFrom('events').selectAll().execute();
      expect(await store.changeStamp()).toBe(before);
    }
    await insertEvent(other.db, event('queued'), 1);
    const afterTheirs = await store.changeStamp();
    expect(afterTheirs).not.toBe(before);
    await insertEvent(store.db, event('queued', 'other-app'), 2);
    expect(await store.changeStamp()).not.toBe(afterTheirs);
  });

  if (dialect === 'postgres') {
    it('when another schema of the database already has the migration tables, then two replicas still migrate this one together', async () => {
      // Kysely looked for its migration tables in every schema: it found these and skipped its own.
      const fresh = await createPostgresDatabase();
      try {
        const replicas = [openStore(fresh.url), openStore(fresh.url)];
        extra.push(...replicas);
        await Promise.all(replicas.map((r) => r.migrate()));
        const e = event('queued');
        await insertEvent(replicas[0]!.db, e, 1);
        await openDelivery(replicas[0]!.db, e.id, { state: 'queued', now: 1, newEvent: true });
        expect(await replicas[1]!.transaction((trx) => claimDeliveries(trx, 'postgres', 1, 'w', 1000, 1))).toHaveLength(1);
      } finally {
        for (const r of extra.splice(0)) await r.close();
        await fresh.drop();
      }
    });

    it('when two transactions lock the same app, then the second waits for the first to end', async () => {
      const other = another();
      let firstDone!: () => void;
      const firstMayEnd = new Promise<void>((resolve) => (firstDone = resolve));
      const order: string[] = [];
      const first = store.db.transaction().execute(async (trx) => {
        await store.lockApp(trx, 'podinfo-prod');
        order.push('first locked');
        await firstMayEnd;
        order.push('first ends');
      });
      // Wait until the first holds the lock before the second asks for it.
      while (!order.includes('first locked')) await new Promise((r) => setImmediate(r));
      const second = other.db.transaction().execute(async (trx) => {
        await other.lockApp(trx, 'podinfo-prod');
        order.push('second locked');
      });
      // Condition, not a sleep: PostgreSQL shows the second backend waiting on an advisory lock.
      const probe = new pg.Client({ connectionString: database.url });
      await probe.connect();
      try {
        for (;;) {
          const { rows } = await probe.query<{ n: string }>("select count(*) as n from pg_locks where locktype = 'advisory' and not granted");
          if (Number(rows[0]!.n) > 0) break;
        }
      } finally {
        await probe.end();
      }
      firstDone();
      await Promise.all([first, second]);
      expect(order).toEqual(['first locked', 'first ends', 'second locked']);
    });

    it('when two transactions lock different apps, then neither waits', async () => {
      const other = another();
      const locked = await store.db.transaction().execute(async (trx) => {
        await store.lockApp(trx, 'app-a');
        return other.db.transaction().execute(async (trx2) => {
          // Were app-b blocked by app-a's lock, this would fail after 2 s instead of hanging.
          await sql`set local lock_timeout = '2s'`.execute(trx2);
          await other.lockApp(trx2, 'app-b');
          return 'app-b locked while app-a was held';
        });
      });
      expect(locked).toBe('app-b locked while app-a was held');
    });
  }
});

describe.each(DIALECTS)('store.transaction on %s', (dialect, createDatabase) => {
  let database: TestDatabase;
  let store: Store;
  let reader: Store;

  beforeEach(async () => {
    database = await createDatabase();
    store = openStore(database.url);
    await store.migrate();
    await sql`create table t_parent (id integer primary key)`.execute(store.db);
    await sql`create table t_child (id integer primary key, parent integer references t_parent (id) deferrable initially deferred)`.execute(store.db);
    // Another connection, as another process would see the database.
    reader = openStore(database.url);
  });
  afterEach(async () => {
    await reader.close();
    await store.close();
    await database.drop();
  });

  const visible = async () => (await sql<{ id: number }>`select id from t_parent order by id`.execute(reader.db)).rows.map((r) => Number(r.id));
  const insert = (id: number) => store.transaction((trx) => sql`insert into t_parent (id) values (${id})`.execute(trx).then(() => id));

  it('when transactions run side by side and one fails, then that one alone is rolled back and its caller gets its error', async () => {
    const failing = store.transaction(async (trx) => {
      await sql`insert into t_parent (id) values (2)`.execute(trx);
      throw new Error('unit 2 failed');
    });
    const results = await Promise.allSettled([insert(1), failing, insert(3)]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toEqual(new Error('unit 2 failed'));
    expect(await visible()).toEqual([1, 3]);
  });

  it('when a transaction resolves, then another connection already sees what it wrote', async () => {
    const seen: number[][] = [];
    await Promise.all([1, 2, 3].map((id) => insert(id).then(async () => seen.push((await visible()).filter((v) => v === id)))));
    expect(seen.sort()).toEqual([[1], [2], [3]]);
  });

  // Group commit: SQLite's one connection shares a commit among the transactions that arrive together.
  if (dialect === 'sqlite') {
    it('when transactions are asked for together, then they commit together: the first caller to hear finds all of them stored', async () => {
      let firstSaw: number[] | undefined;
      const ids = Array.from({ length: 20 }, (_, i) => i + 1);
      await Promise.all(
        ids.map((id) =>
          store
            .transaction((trx) => sql`insert into t_parent (id) values (${id})`.execute(trx))
            .then(async () => {
              firstSaw ??= await visible();
            }),
        ),
      );
      expect(firstSaw).toEqual(ids);
    });

    it('when the shared commit fails, then every caller of the group gets the error and nothing of the group is stored', async () => {
      const ok = store.transaction((trx) => sql`insert into t_parent (id) values (1)`.execute(trx));
      // Checked at commit (deferred), so the unit itself succeeds and the group's commit fails.
      const orphan = store.transaction((trx) => sql`insert into t_child (id, parent) values (1, 99)`.execute(trx));
      const results = await Promise.allSettled([ok, orphan]);
      expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
      expect(String((results[0] as PromiseRejectedResult).reason)).toMatch(/FOREIGN KEY/);
      expect(await visible()).toEqual([]);
      // The next group is not affected.
      await store.transaction((trx) => sql`insert into t_parent (id) values (2)`.execute(trx));
      expect(await visible()).toEqual([2]);
    });
  }
});

describe('the transaction rules, as checks', () => {
  it.each(DIALECTS)('when a transaction’s work queries store.db or opens a transaction of its own on %s, then it fails at once with WrongHandleError, and the store goes on', async (_dialect, createDatabase) => {
    const database = await createDatabase();
    const store = openStore(database.url);
    try {
      await store.migrate();
      const onDb = store.transaction(async () => {
        await store.db.selectFrom('events').select('id').execute();
      });
      await expect(onDb).rejects.toThrow(WrongHandleError);
      await expect(onDb).rejects.toThrow(/^a query on store\.db inside a transaction's work: use the transaction's trx/);
      await expect(store.transaction(() => store.transaction(() => Promise.resolve(1)))).rejects.toThrow(/^a transaction inside a transaction's work/);
      // The store is not stuck: the next transaction and a query on store.db outside one both work.
      expect(await store.transaction(async (trx) => (await trx.selectFrom('events').select('id').execute()).length)).toBe(0);
      expect(await store.db.selectFrom('events').select('id').execute()).toEqual([]);
    } finally {
      await store.close();
      await database.drop();
    }
  });

  it('when the fsync after a SQLite commit fails, then the callers hear that the write is unconfirmed (not "not stored"), the answer says it may be kept, and it was committed', async () => {
    const sqlite = new SQLiteDatabase(':memory:');
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
    const eio = Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
    const transaction = groupCommit(db, () => Promise.reject(eio));
    try {
      await sql`create table t (id integer primary key)`.execute(db);
      const failure = await transaction((trx) => sql`insert into t (id) values (1)`.execute(trx)).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(UnconfirmedWriteError);
      expect(storeProblemOf(failure)).toEqual({ kind: 'io_error', label: 'I/O error' });
      const answer = toAppError(failure);
      expect([answer.code, answer.status]).toEqual(['STORE_UNAVAILABLE', 503]);
      expect(answer.message).toBe('the event store took the request but the disk did not confirm it: it may be kept or lost; send it again (one that was kept is answered duplicate)');
      expect((await sql<{ n: number }>`select count(*) as n from t`.execute(db)).rows[0]!.n).toBe(1);
    } finally {
      await db.destroy();
    }
  });

  it('when something throws between SQLite groups, then the waiting callers hear it and later transactions still run', async () => {
    const sqlite = new SQLiteDatabase(':memory:');
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
    let fail = true;
    const transaction = groupCommit(
      db,
      () => Promise.resolve(),
      () => {
        if (!fail) return undefined;
        fail = false;
        return Promise.reject(new Error('checkpoint thread gone'));
      },
    );
    try {
      await expect(transaction(() => Promise.resolve('first'))).rejects.toThrow('checkpoint thread gone');
      expect(await transaction(() => Promise.resolve('second'))).toBe('second');
    } finally {
      await db.destroy();
    }
  });
});
