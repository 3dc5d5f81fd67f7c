import { Migrator, sql } from 'kysely';
import { tellOnce } from '../../src/store/notifications.repository';
import type { RevisionReport } from '../../src/domain/rollback-policy';
import { summarizeRevision } from '../../src/domain/revision-summary';
import { countAppNames, listAppCounts, listAppNames } from '../../src/store/apps.repository';
import { openStore, type Store } from '../../src/store/database';
import { summarizeDelivery, summarizeFollow } from '../../src/store/events.repository';
import { migrations } from '../../src/store/migrations';
import { DIALECTS, type DialectName, type TestDatabase } from '../support/dialects';

const BEFORE_WORK_TABLES = '2026-11-30T12-00-status-page';
const BEFORE_REVISION_STATES = '2026-12-05T12-00-accept-path';

/** Brings a fresh store to the schema of an earlier release: its migrations up to `name`. */
async function migrateTo(store: Store, dialect: DialectName, name: string): Promise<void> {
  const migrationTableSchema = dialect === 'postgres' ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(store.db)).rows[0]?.schema : undefined;
  const migrator = new Migrator({ db: store.db, migrationTableSchema, provider: { getMigrations: () => Promise.resolve(migrations) } });
  const { error } = await migrator.migrateTo(name);
  if (error) throw error instanceof Error ? error : new Error(JSON.stringify(error));
}

/**
 * An installation upgraded from the release before the work tables: every event's delivery and
 * follow-up state, live leases included, the outbox and the token's slot come through the migration.
 */
describe.each(DIALECTS)('migrating to the work tables on %s', (dialect, createDatabase) => {
  let database: TestDatabase;
  let store: Store;

  beforeEach(async () => {
    database = await createDatabase();
    store = openStore(database.url);
    await migrateTo(store, dialect, BEFORE_WORK_TABLES);
  });
  afterEach(async () => {
    await store.close();
    await database.drop();
  });

  /** An events row as the earlier release wrote it. */
  async function oldEvent(id: string, n: number, columns: Record<string, unknown>): Promise<void> {
    const row: Record<string, unknown> = {
      id,
      app: 'podinfo-prod',
      failed_revision: `f${String(n).padStart(39, '0')}`,
      healthy_revision: 'a'.repeat(40),
      target_owner: 'acme',
      target_repo: 'gitops',
      event_type: 'argo-degraded',
      dispatch_body: '{}',
      attempts: 0,
      transient_failures: 0,
      created_at: 1000 + n,
      updated_at: 2000 + n,
      ...columns,
    };
    const names = Object.keys(row);
    await sql`insert into events (${sql.join(names.map((c) => sql.ref(c)))}) values (${sql.join(names.map((c) => row[c]))})`.execute(store.db);
  }

  it('when an installation with queued, leased, delivered-and-followed, failed and suppressed events upgrades, then each keeps its state in the new tables', async () => {
    await oldEvent('e-queued', 1, { status: 'queued', next_attempt_at: 1500 });
    await oldEvent('e-leased', 2, { status: 'delivering', attempts: 1, transient_failures: 1, next_attempt_at: 1600, lease_owner: 'old-worker', lease_expires_at: 99_999_999_999_999 });
    await oldEvent('e-followed', 3, {
      status: 'delivered',
      attempts: 1,
      delivered_at: 3000,
      outcome: 'restoring',
      outcome_reason: 'workflow run 77 found (in_progress)',
      outcome_check_at: 5000,
      outcome_poll_ms: 20_000,
      run_id: '77',
      run_url: 'https://github.example/runs/77',
      cancelled_runs: '55',
      redispatches: 1,
    });
    await oldEvent('e-failed', 4, { status: 'failed', attempts: 3, transient_failures: 3, last_error: 'GitHub answered 404' });
    await oldEvent('e-suppressed', 5, { status: 'suppressed', suppression_reason: 'loop guard' });
    await sql`insert into attempts (event_id, attempt, started_at, finished_at, status_code, outcome) values ('e-leased', 1, 1, 2, 502, 'retry')`.execute(store.db);
    await sql`insert into notifications (id, app, kind, message, status, attempts, next_attempt_at, lease_owner, lease_expires_at, created_at)
              values ('n1', 'podinfo-prod', 'dispatched', '{}', 'sent', 1, 10, null, null, 10),
                     ('n2', 'podinfo-prod', 'verified', '{}', 'sending', 0, 20, 'old-notifier', 99999, 20),
                     ('n3', 'podinfo-prod', 'suppressed', '{}', 'pending', 2, 30, null, null, 30)`.execute(store.db);
    await sql`insert into dispatch_slots (token_key, holder, held_until, next_allowed_at) values ('token', 'old-worker', 9, 100)`.execute(store.db);

    await store.migrate();

    const deliveries = await store.db.selectFrom('deliveries').selectAll().orderBy('event_id').execute();
    // bigint columns come back as strings from pg.
    const NUMBERS = new Set(['seq', 'attempts', 'transient_failures', 'due_at', 'poll_ms', 'redispatches', 'delivered_at', 'version']);
    const pick = (rows: Array<Record<string, unknown>>, keys: string[]) => rows.map((r) => Object.fromEntries(keys.map((k) => [k, NUMBERS.has(k) && r[k] !== null ? Number(r[k]) : r[k]])));
    expect(pick(deliveries, ['event_id', 'seq', 'state', 'attempts', 'transient_failures', 'due_at', 'lease_owner', 'last_error'])).toEqual([
      { event_id: 'e-failed', seq: 1, state: 'failed', attempts: 3, transient_failures: 3, due_at: null, lease_owner: null, last_error: 'GitHub answered 404' },
      { event_id: 'e-followed', seq: 1, state: 'delivered', attempts: 1, transient_failures: 0, due_at: null, lease_owner: null, last_error: null },
      // A live lease stays live: the worker that holds it finishes, or it expires as before.
      { event_id: 'e-leased', seq: 1, state: 'retrying', attempts: 1, transient_failures: 1, due_at: 1600, lease_owner: 'old-worker', last_error: null },
      { event_id: 'e-queued', seq: 1, state: 'queued', attempts: 0, transient_failures: 0, due_at: 1500, lease_owner: null, last_error: null },
    ]);
    const follows = await store.db.selectFrom('outcome_follows').selectAll().execute();
    expect(pick(follows, ['event_id', 'delivery_id', 'outcome', 'due_at', 'poll_ms', 'run_id', 'cancelled_runs', 'redispatches', 'delivered_at'])).toEqual([
      { event_id: 'e-followed', delivery_id: 'e-followed', outcome: 'restoring', due_at: 5000, poll_ms: 20_000, run_id: '77', cancelled_runs: '55', redispatches: 1, delivered_at: 3000 },
    ]);
    expect(await store.db.selectFrom('attempts').select(['event_id', 'delivery_id']).execute()).toEqual([{ event_id: 'e-leased', delivery_id: 'e-leased' }]);
    const outbox = await store.db.selectFrom('notifications').select(['id', 'status', 'due_at', 'lease_owner', 'version']).orderBy('id').execute();
    expect(pick(outbox, ['id', 'status', 'due_at', 'lease_owner', 'version'])).toEqual([
      { id: 'n1', status: 'sent', due_at: null, lease_owner: null, version: 0 },
      { id: 'n2', status: 'pending', due_at: 20, lease_owner: 'old-notifier', version: 0 },
      { id: 'n3', status: 'pending', due_at: 30, lease_owner: null, version: 0 },
    ]);
    expect(pick(await store.db.selectFrom('dispatch_slots').selectAll().execute(), ['token_key', 'lease_owner', 'due_at', 'version'])).toEqual([{ token_key: 'token', lease_owner: 'old-worker', due_at: 100, version: 0 }]);

    // The summary is unchanged by the move and rewritten the same from the work tables.
    const before = await store.db.selectFrom('events').select(['id', 'status', 'attempts', 'outcome', 'redispatches']).orderBy('id').execute();
    for (const delivery of deliveries) await summarizeDelivery(store.db, store.dialect, delivery, 9000);
    for (const follow of follows) await summarizeFollow(store.db, store.dialect, follow, 9000);
    const after = await store.db.selectFrom('events').select(['id', 'status', 'attempts', 'outcome', 'redispatches']).orderBy('id').execute();
    expect(after).toEqual(before);
    expect(after.find((e) => e.id === 'e-leased')?.status).toBe('delivering');
    // The workers' columns left the events row.
    const events = (await store.db.introspection.getTables()).find((t) => t.name === 'events')!;
    const columns = events.columns.map((c) => c.name);
    expect(columns).toEqual(expect.arrayContaining(['status', 'attempts', 'outcome', 'redispatches']));
    for (const moved of ['lease_owner', 'lease_expires_at', 'transient_failures', 'outcome_lease_owner', 'outcome_check_at', 'run_id', 'cancelled_runs']) expect(columns).not.toContain(moved);
  });
});

/**
 * An installation upgraded from the release before the per-revision summaries: every (app, revision)
 * gets the summary of all its reports, across the migration's pages (5,000 reports each).
 */
describe.each(DIALECTS)('migrating to the revision summaries on %s', (dialect, createDatabase) => {
  let database: TestDatabase;
  let store: Store;

  beforeEach(async () => {
    database = await createDatabase();
    store = openStore(database.url);
    await migrateTo(store, dialect, BEFORE_REVISION_STATES);
  });
  afterEach(async () => {
    await store.close();
    await database.drop();
  });

  it('when 6,000 reports of 7 apps are stored, then each revision’s summary is the one its reports give', async () => {
    const statuses = ['Healthy', 'Degraded', 'Progressing', 'Healthy', 'Degraded'];
    const reports: RevisionReport[] = [];
    const apps: string[] = [];
    for (let n = 0; n < 6000; n++) {
      // Apps, revisions and statuses interleave so that an app's reports and one revision's cross pages.
      const app = `app-${n % 7}`;
      const revision = `${String(n % 11).padStart(2, '0')}${'e'.repeat(38)}`;
      reports.push({ id: `r${String(n).padStart(5, '0')}`, revision, status: statuses[(n * 7) % 5]!, reportedAt: 1000 + Math.floor(n / 3), source: 'health_report', note: null });
      apps.push(app);
    }
    for (let i = 0; i < reports.length; i += 500) {
      const rows = reports.slice(i, i + 500).map((r, j) => ({ id: r.id, app: apps[i + j]!, revision: r.revision, status: r.status, source: r.source, event_id: null, reported_at: r.reportedAt, note: null }));
      await store.db.insertInto('health_reports').values(rows).execute();
    }

    await store.migrate();

    const states = await store.db.selectFrom('revision_states').selectAll().orderBy('app').orderBy('revision').execute();
    const expected = new Map<string, RevisionReport[]>();
    reports.forEach((r, n) => expected.set(`${apps[n]} ${r.revision}`, [...(expected.get(`${apps[n]} ${r.revision}`) ?? []), r]));
    expect(states).toHaveLength(expected.size);
    for (const state of states) {
      const summary = summarizeRevision(expected.get(`${state.app} ${state.revision}`)!);
      expect(JSON.parse(state.reports)).toEqual(summary);
      expect(state.newest_healthy_at === null ? null : Number(state.newest_healthy_at)).toBe(summary.find((r) => r.status === 'Healthy')?.reportedAt ?? null);
      expect(state.id_length).toBe(40);
    }
  });
});

/** An installation from before the apps table: every app it knew is listed after the upgrade. */
describe.each(DIALECTS)('migrating to the apps table on %s', (dialect, createDatabase) => {
  let database: TestDatabase;
  let store: Store;
  beforeEach(async () => {
    database = await createDatabase();
    store = openStore(database.url);
    await migrateTo(store, dialect, '2026-12-06T09-00-retention');
  });
  afterEach(async () => {
    await store.close();
    await database.drop();
  });

  it('when apps are known only by a report, an event or a pause, then each gets its row, first seen at its earliest trace', async () => {
    await sql`insert into health_reports (id, app, revision, status, source, event_id, reported_at) values ('r1', 'reported', ${'a'.repeat(40)}, 'Healthy', 'health_report', null, 300), ('r2', 'both', ${'b'.repeat(40)}, 'Healthy', 'health_report', null, 500)`.execute(store.db);
    await sql`insert into events (id, app, failed_revision, healthy_revision, target_owner, target_repo, event_type, dispatch_body, status, attempts, created_at, updated_at)
              values ('e1', 'both', ${'c'.repeat(40)}, ${'b'.repeat(40)}, 'acme', 'gitops', 'argo-degraded', '{}', 'delivered', 1, 400, 400)`.execute(store.db);
    await sql`insert into app_pauses (app, reason, paused_by, paused_at) values ('paused-only', 'incident', 'ana', 700)`.execute(store.db);
    await store.migrate();
    const rows = await store.db.selectFrom('apps').selectAll().orderBy('app').execute();
    expect(rows.map((r) => ({ app: r.app, first_seen_at: Number(r.first_seen_at) }))).toEqual([
      { app: 'both', first_seen_at: 400 },
      { app: 'paused-only', first_seen_at: 700 },
      { app: 'reported', first_seen_at: 300 },
    ]);
    expect(await countAppNames(store.db)).toBe(3);
    expect(await listAppNames(store.db, 2, 1)).toEqual(['paused-only', 'reported']);
  });
});

/** An installation from before told_once: what its stored messages told is remembered after the upgrade. */
describe.each(DIALECTS)('migrating to told_once on %s', (dialect, createDatabase) => {
  let database: TestDatabase;
  let store: Store;
  beforeEach(async () => {
    database = await createDatabase();
    store = openStore(database.url);
    await migrateTo(store, dialect, '2026-12-06T23-00-needs-a-person');
  });
  afterEach(async () => {
    await store.close();
    await database.drop();
  });

  it('when not_deployed and not_restorable messages are stored, then each (app, kind, subject) is told once, at its first message, and a second telling is refused', async () => {
    const message = (id: string, app: string, kind: string, failedRevision: string, at: number) =>
      sql`insert into notifications (id, event_id, app, kind, message, status, attempts, due_at, version, created_at) values (${id}, null, ${app}, ${kind}, ${JSON.stringify({ kind, app, failedRevision })}, 'sent', 1, null, 0, ${at})`.execute(store.db);
    await message('n1', 'web', 'not_deployed', 'none', 500);
    await message('n2', 'web', 'not_deployed', 'none', 300);
    await message('n3', 'charts', 'not_restorable', `${'a'.repeat(40)},${'b'.repeat(40)}`, 400);
    await message('n4', 'web', 'verified', 'c'.repeat(40), 600);
    await store.migrate();
    const rows = await store.db.selectFrom('told_once').selectAll().orderBy('app').execute();
    expect(rows).toEqual([
      { app: 'charts', kind: 'not_restorable', subject: `${'a'.repeat(40)},${'b'.repeat(40)}`, told_at: 400 },
      { app: 'web', kind: 'not_deployed', subject: 'none', told_at: 300 },
    ]);
    expect(await tellOnce(store.db, { app: 'web', kind: 'not_deployed', subject: 'none', at: 900 })).toBe(false);
    expect(await tellOnce(store.db, { app: 'web', kind: 'not_deployed', subject: 'other', at: 900 })).toBe(true);
  });
});

/** An installation from before known_failed: each revision's mark is what its summary says. */
describe.each(DIALECTS)('migrating to known_failed on %s', (dialect, createDatabase) => {
  let database: TestDatabase;
  let store: Store;
  beforeEach(async () => {
    database = await createDatabase();
    store = openStore(database.url);
    await migrateTo(store, dialect, '2026-12-07T10-00-told-once');
  });
  afterEach(async () => {
    await store.close();
    await database.drop();
  });

  it('when summaries end Degraded, Healthy, healed or only Progressing, then only the Degraded ones are marked, and counted from the index', async () => {
    const report = (id: string, status: string, at: number) => ({ id, revision: 'r', status, source: 'health_report', reportedAt: at, note: null });
    const state = (app: string, revision: string, reports: object[]) =>
      sql`insert into revision_states (app, revision, id_length, reports, newest_healthy_at) values (${app}, ${revision}, 40, ${JSON.stringify(reports)}, null)`.execute(store.db);
    await state('web', 'a'.repeat(40), [report('2', 'Degraded', 20), report('1', 'Healthy', 10)]);
    await state('web', 'b'.repeat(40), [report('4', 'Healthy', 40), report('3', 'Degraded', 30)]);
    await state('web', 'c'.repeat(40), [report('6', 'Progressing', 60), report('5', 'Degraded', 50)]);
    await state('web', 'd'.repeat(40), [report('7', 'Progressing', 70)]);
    await state('shop', 'a'.repeat(40), [report('8', 'Degraded', 80)]);
    await store.migrate();
    const rows = await store.db.selectFrom('revision_states').select(['app', 'revision', 'known_failed']).orderBy('app').orderBy('revision').execute();
    expect(rows.map((r) => `${r.app} ${r.revision[0]} ${r.known_failed}`)).toEqual(['shop a 1', 'web a 1', 'web b 0', 'web c 1', 'web d 0']);
    expect(await listAppCounts(store.db, ['web', 'shop', 'nobody'])).toEqual([
      { app: 'web', healthyRevisions: 0, knownFailedRevisions: 2 },
      { app: 'shop', healthyRevisions: 0, knownFailedRevisions: 1 },
      { app: 'nobody', healthyRevisions: 0, knownFailedRevisions: 0 },
    ]);
  });
});
