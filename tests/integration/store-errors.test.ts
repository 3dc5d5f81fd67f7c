import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import request from 'supertest';
import { listEvents } from '../../src/store/events.repository';
import { DIALECTS, type TestDatabase } from '../support/dialects';
import { ADMIN_TOKEN, WEBHOOK_TOKEN, createHarness, failedRevision, seedBody, type Harness } from '../support/harness';
import { TcpProxy } from '../support/tcp-proxy';

const auth = { Authorization: `Bearer ${WEBHOOK_TOKEN}` };
const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };

/**
 * What a real database's errors are answered with, on each dialect: an outage (the connection dropped,
 * the database busy) is 503 STORE_UNAVAILABLE, which Argo CD retries; an error about the statement (a
 * constraint violation, a SQL bug) is 500 INTERNAL, logged as a bug. Nothing is half-stored either way.
 */
describe.each(DIALECTS)('store errors on %s', (dialect, createDatabase) => {
  let h: Harness;
  let database: TestDatabase;
  let proxy: TcpProxy | undefined;

  beforeEach(async () => {
    database = await createDatabase();
    let url = database.url;
    if (dialect === 'postgres') {
      // Through a proxy the test can take down, as a PostgreSQL restart drops every connection.
      const target = new URL(database.url);
      proxy = await new TcpProxy(target.hostname, Number(target.port || 5432)).up();
      target.host = `127.0.0.1:${proxy.port}`;
      url = target.toString();
    }
    h = await createHarness({ worker: false, database: { url, drop: () => database.drop() } });
  });
  afterEach(async () => {
    await h.close();
    await proxy?.down();
    proxy = undefined;
  });

  const countEvents = async () => (await listEvents(h.store.db, { limit: 500 })).length;

  it('when a constraint refuses the insert, then 500 INTERNAL (a bug, not an outage), nothing stored, logged as a bug', async () => {
    if (dialect === 'sqlite') await sql`create trigger refuse_insert before insert on deliveries begin select raise(abort, 'refused by a test constraint'); end`.execute(h.store.db);
    else await sql`alter table deliveries add constraint refused_by_test check (state <> 'queued')`.execute(h.store.db);
    const res = await request(h.app).post('/v1/webhooks/argocd').set(auth).send(seedBody());
    expect(res.status).toBe(500);
    expect(res.body.error).toEqual({ code: 'INTERNAL', message: 'internal error' });
    expect(JSON.stringify(res.body)).not.toMatch(/constraint|Sqlite|at .*\.ts/i);
    // The event's insert came before the refused one: the transaction took both back.
    expect(await countEvents()).toBe(0);
    expect(h.logs.entries).toContainEqual(expect.objectContaining({ level: 50, code: 'INTERNAL', err: expect.objectContaining({ message: expect.stringMatching(/constraint|refused/i) }) }));
  });

  it('when a query names a table that is not there (a SQL bug), then the read API answers 500 INTERNAL without a stack', async () => {
    await sql`alter table attempts rename to attempts_moved`.execute(h.store.db);
    const id = (await request(h.app).post('/v1/webhooks/argocd').set(auth).send(seedBody())).body.id as string;
    const res = await request(h.app).get(`/v1/events/${id}`).set(admin);
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe('INTERNAL');
    expect(JSON.stringify(res.body)).not.toMatch(/attempts|at .*\.ts/);
  });

  if (dialect === 'postgres') {
    it('when the database connection drops, then 503 STORE_UNAVAILABLE, nothing stored, and the same request succeeds once it is back', async () => {
      expect((await request(h.app).post('/v1/webhooks/argocd').set(auth).send(seedBody({ failed_revision: failedRevision(1) }))).status).toBe(202);
      await proxy!.down();
      const res = await request(h.app).post('/v1/webhooks/argocd').set(auth).send(seedBody({ failed_revision: failedRevision(2) }));
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('STORE_UNAVAILABLE');
      expect(h.logs.entries).toContainEqual(expect.objectContaining({ level: 50, code: 'STORE_UNAVAILABLE' }));
      await proxy!.up();
      const retried = await request(h.app).post('/v1/webhooks/argocd').set(auth).send(seedBody({ failed_revision: failedRevision(2) }));
      expect(retried.status).toBe(202);
      expect(await countEvents()).toBe(2);
    });
  } else {
    it('when another process holds the database locked past the busy timeout, then 503 STORE_UNAVAILABLE, nothing stored, and the retry succeeds once it lets go', async () => {
      const other = new SQLite(database.url.replace(/^sqlite:/, ''));
      try {
        other.prepare('begin immediate').run();
        const res = await request(h.app).post('/v1/webhooks/argocd').set(auth).send(seedBody());
        expect(res.status).toBe(503);
        expect(res.body.error.code).toBe('STORE_UNAVAILABLE');
        expect(h.logs.entries).toContainEqual(expect.objectContaining({ level: 50, code: 'STORE_UNAVAILABLE', err: expect.objectContaining({ code: 'SQLITE_BUSY' }) }));
        other.prepare('rollback').run();
      } finally {
        other.close();
      }
      expect(await countEvents()).toBe(0);
      expect((await request(h.app).post('/v1/webhooks/argocd').set(auth).send(seedBody())).status).toBe(202);
    });

    it('when the disk is full, then 503, every log line says "disk full" with SQLite\'s own error (never the failed rollback after it), and /v1/status and the status page show it', async () => {
      expect((await request(h.app).post('/v1/webhooks/argocd').set(auth).send(seedBody({ failed_revision: failedRevision(1) }))).status).toBe(202);
      // The file may not grow by a page: what a full disk does to SQLite (SQLITE_FULL).
      const pages = Number((await sql<{ page_count: number }>`pragma page_count`.execute(h.store.db)).rows[0]!.page_count);
      await sql.raw(`pragma max_page_count = ${pages}`).execute(h.store.db);
      const bulky = (n: number) => seedBody({ failed_revision: failedRevision(n), note: 'x'.repeat(30_000) });
      const answers = [];
      for (let n = 2; n <= 6; n += 1) answers.push(await request(h.app).post('/v1/webhooks/argocd').set(auth).send(bulky(n)));
      expect(answers.map((a) => a.status)).toEqual([503, 503, 503, 503, 503]);
      const lines = h.logs.entries.filter((e) => e.code === 'STORE_UNAVAILABLE');
      expect(lines).toHaveLength(5);
      for (const line of lines) {
        expect(line).toMatchObject({ level: 50, storeProblem: 'disk_full', msg: 'the event store is unavailable; the request was not stored, retry later (disk full)', err: expect.objectContaining({ code: 'SQLITE_FULL' }) });
      }
      expect(h.logs.text()).not.toContain('cannot rollback');
      expect(await countEvents()).toBe(1);

      const status = (await request(h.app).get('/v1/status').set(admin)).body as { store_problem: Record<string, unknown> };
      expect(status.store_problem).toMatchObject({ kind: 'disk_full', label: 'disk full', first_error: expect.stringMatching(/^SQLITE_FULL: database or disk is full/), count: 5 });
      const agent = request.agent(h.app);
      await agent.post('/ui/login').type('form').send({ name: 'Ana', token: ADMIN_TOKEN, next: '/ui/' });
      expect((await agent.get('/ui/')).text).toContain('<strong>The store is failing: disk full.</strong>');

      // Space again: the next webhook is stored.
      await sql.raw('pragma max_page_count = 1073741823').execute(h.store.db);
      expect((await request(h.app).post('/v1/webhooks/argocd').set(auth).send(bulky(7))).status).toBe(202);
    });
  }
});
