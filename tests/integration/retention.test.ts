import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import request from 'supertest';
import { v7 as uuidv7 } from 'uuid';
import { createLogger } from '../../src/logger';
import { RetentionWorker } from '../../src/retention/retention-worker';
import { openStore, type Store } from '../../src/store/database';
import { insertReport } from '../../src/store/reports.repository';
import { findEvent } from '../../src/store/events.repository';
import { REV_8, REV_9, neverSynced, toStateBody } from '../support/argocd-fixtures';
import { NotifyReceiver } from '../support/notify-receiver';
import { DIALECTS } from '../support/dialects';
import { ADMIN_TOKEN, WEBHOOK_TOKEN, createHarness, createManualClock, failedRevision, LogCapture, type Harness } from '../support/harness';
import { until } from '../support/until';

const auth = { Authorization: `Bearer ${WEBHOOK_TOKEN}` };
const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };
const MINUTE = 60_000;
const DAY = 86_400_000;
/** The shop's healthy deploys, oldest first, and a revision it only ever reported Degraded. */
const HEALTHY = Array.from({ length: 12 }, (_, i) => failedRevision(0x100 + i));
const NEVER_HEALTHY = failedRevision(0x200);

describe.each(DIALECTS)('retention (RETENTION_DAYS) on %s', (_dialect, createDatabase) => {
  let h: Harness;
  afterEach(async () => {
    expect(h.github.received.flatMap((r) => r.schemaErrors)).toEqual([]);
    await h.close();
  });

  const post = (body: unknown) => request(h.app).post('/v1/webhooks/argocd').set(auth).send(body as object);
  const report = (app: string, status: string, revision: string) => post({ app, status, revision });
  const outcomeOf = async (id: string) => (await findEvent(h.store.db, id))?.event.outcome;
  const count = async (table: 'attempts' | 'outcome_history' | 'admin_actions' | 'revision_states', where?: { event_id: string }) => {
    let query = h.store.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n'));
    if (where) query = query.where('event_id', '=', where.event_id);
    return Number((await query.executeTakeFirstOrThrow()).n);
  };

  it('when a year goes by, then exactly what is old and finished goes: an undelivered event, a followed one, the last healthy revisions and the per-app state stay, and the next rollback picks the same target', async () => {
    const clock = createManualClock();
    h = await createHarness({ clock, database: await createDatabase(), env: { RUN_LOOKUP_SECONDS: '60', RETENTION_DAYS: '90' } });
    const rollback = async (app: string, status = 202) => {
      const res = await report(app, 'Degraded', app === 'shop' ? NEVER_HEALTHY : REV_9);
      expect(res.status).toBe(status);
      return res.body.id as string;
    };

    // The shop deploys twelve times, then one deploy that never gets healthy is rolled back to the twelfth.
    for (const revision of HEALTHY) {
      expect((await report('shop', 'Healthy', revision)).status).toBe(200);
      clock.advance(MINUTE);
    }
    const shop = await rollback('shop');
    expect((await findEvent(h.store.db, shop))?.event.healthyRevision).toBe(HEALTHY[11]);
    // Another app's rollback is delivered; no workflow run comes, so it ends run_missing (finished).
    expect((await report('done', 'Healthy', REV_8)).status).toBe(200);
    const done = await rollback('done');
    await h.waitForStatus(shop, 'delivered');
    await h.waitForStatus(done, 'delivered');
    clock.advance(61_000);
    await until(async () => (await outcomeOf(shop)) === 'run_missing' && (await outcomeOf(done)) === 'run_missing', 'both outcomes run_missing');
    // One still followed (no run yet), one never delivered (the delivery worker is stopped first).
    expect((await report('open', 'Healthy', REV_8)).status).toBe(200);
    const open = await rollback('open');
    await h.waitForStatus(open, 'delivered');
    await h.workers!.delivery!.stop();
    expect((await report('queued', 'Healthy', REV_8)).status).toBe(200);
    const queued = await rollback('queued');
    await h.workers!.outcomes!.stop();
    expect((await request(h.app).post('/v1/apps/other/pause').set(admin).send({ reason: 'freeze', by: 'ana@example.com', allow_unseen: true })).status).toBe(200);
    expect(await count('attempts', { event_id: done })).toBe(1);
    expect(await count('outcome_history', { event_id: done })).toBeGreaterThan(0);
    const states = await count('revision_states');

    // 100 days later the hourly job runs (the service's own worker, on its schedule).
    clock.advance(100 * DAY);
    const line = await h.waitForLog((e) => typeof e.msg === 'string' && e.msg.startsWith('retention:') && (e.deleted as { events?: number }).events === 2, 'a retention run that deleted two events');
    expect(line).toMatchObject({ level: 30, retentionDays: 90, deleted: { events: 2, admin_actions: 1, health_reports: 6 } });
    expect(h.logs.entries.filter((e) => e.component === 'retention' && e.level !== 30)).toEqual([]);

    for (const gone of [shop, done]) {
      expect(await findEvent(h.store.db, gone)).toBeUndefined();
      expect(await count('attempts', { event_id: gone })).toBe(0);
      expect(await count('outcome_history', { event_id: gone })).toBe(0);
    }
    expect((await findEvent(h.store.db, open))?.event).toMatchObject({ status: 'delivered', outcome: 'awaiting_run' });
    expect((await findEvent(h.store.db, queued))?.event).toMatchObject({ status: 'queued', outcome: null });
    const reports = await h.store.db.selectFrom('health_reports').select(['app', 'revision', 'status']).orderBy('reported_at').orderBy('id').execute();
    expect(reports.filter((r) => r.app === 'shop')).toEqual(HEALTHY.slice(2).map((revision) => ({ app: 'shop', revision, status: 'Healthy' })));
    // Each other app's only healthy revision stays; its old Degraded report goes.
    expect(reports.filter((r) => r.app !== 'shop').map((r) => `${r.app} ${r.status}`)).toEqual(['done Healthy', 'open Healthy', 'queued Healthy']);
    expect(await count('revision_states')).toBe(states);
    expect(await count('admin_actions')).toBe(0);
    expect((await request(h.app).get('/v1/apps/other').set(admin)).body.paused).toMatchObject({ by: 'ana@example.com', reason: 'freeze' });
    const metrics = (await request(h.app).get('/metrics').set(admin)).text;
    expect(metrics).toMatch(/^rollback_retention_deleted_total\{table="events"\} 2$/m);
    expect(metrics).toMatch(/^rollback_retention_deleted_total\{table="health_reports"\} \d+$/m);

    // The next bad deploy rolls back to the newest healthy revision, and the deploy that never got
    // healthy is still known failed (its report is gone; the per-app state remembers).
    const again = await report('shop', 'Degraded', failedRevision(0x201));
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ healthy_revision: HEALTHY[11], target_reason: expect.stringMatching(/^from ledger/) });
    const toFailed = await post({ client_payload: { app: 'shop', failed_revision: failedRevision(0x202), healthy_revision: NEVER_HEALTHY } });
    // Asked to roll back to it, the policy goes to the ledger instead (a forgotten failure would say "from payload").
    expect(toFailed.status).toBe(202);
    expect(toFailed.body).toMatchObject({ healthy_revision: HEALTHY[11], target_reason: expect.stringMatching(/^from ledger/) });
  });
});

describe.each(DIALECTS)('told once, across retention, on %s', (_dialect, createDatabase) => {
  it("when people were told an app was never deployed and retention deleted that message, then the same report re-sent a year later tells nobody again", async () => {
    const receiver = await new NotifyReceiver().start();
    const clock = createManualClock();
    const h = await createHarness({ clock, database: await createDatabase(), env: { RETENTION_DAYS: '90', NOTIFY_URL: receiver.url, NOTIFY_FORMAT: 'json' } });
    try {
      const send = () => request(h.app).post('/v1/webhooks/argocd').set(auth).send(toStateBody(neverSynced()));
      expect((await send()).body.status).toBe('not_deployed');
      await receiver.waitFor((r) => r.messages.length === 1);
      await until(async () => (await h.store.db.selectFrom('notifications').select('status').execute()).every((m) => m.status === 'sent'), 'the message recorded sent');
      clock.advance(100 * DAY);
      await h.waitForLog((e) => typeof e.msg === 'string' && e.msg.startsWith('retention:') && ((e.deleted as { notifications?: number }).notifications ?? 0) >= 1, 'a retention run that deleted the message');
      expect(await h.store.db.selectFrom('notifications').select('id').execute()).toEqual([]);

      expect((await send()).body.status).toBe('not_deployed');
      // Nothing new to send: the outbox stays empty and the receiver heard it once.
      expect(await h.store.db.selectFrom('notifications').select('id').execute()).toEqual([]);
      expect(receiver.messages.map((m) => m.kind)).toEqual(['not_deployed']);
    } finally {
      await h.close();
      await receiver.stop();
    }
  });
});

describe('retention on a SQLite file', () => {
  let dir: string;
  let store: Store | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rollback-retention-'));
  });
  afterEach(async () => {
    await store?.close();
    store = undefined;
    rmSync(dir, { recursive: true, force: true });
  });
  const pragma = async (name: string) => Number(Object.values((await sql.raw(`pragma ${name}`).execute(store!.db)).rows[0] as object)[0]);

  it('when a file made before retention is opened, then it is converted to auto_vacuum=INCREMENTAL once, its rows intact', async () => {
    const file = join(dir, 'rollback.db');
    const old = new SQLite(file);
    expect(old.pragma('auto_vacuum', { simple: true })).toBe(0);
    old.exec("create table kept (v text); insert into kept values ('still here')");
    old.close();
    store = openStore(`sqlite:${file}`);
    await store.migrate();
    expect(await pragma('auto_vacuum')).toBe(2);
    expect((await sql<{ v: string }>`select v from kept`.execute(store.db)).rows).toEqual([{ v: 'still here' }]);
  });

  it('when a run deletes many rows, then the file gives their pages back, in batches', async () => {
    store = openStore(`sqlite:${join(dir, 'rollback.db')}`);
    await store.migrate();
    expect(await pragma('auto_vacuum')).toBe(2);
    const clock = createManualClock();
    const start = clock.now();
    // 3,000 old Degraded reports of one app (never healthy, so none is kept), each with a long note.
    for (let batch = 0; batch < 30; batch++) {
      await store.transaction(async (trx) => {
        for (let i = 0; i < 100; i++) {
          const n = batch * 100 + i;
          await insertReport(trx, { id: uuidv7(), app: 'shop', revision: failedRevision(n), status: 'Degraded', source: 'health_report', eventId: null, note: 'x'.repeat(1000) }, start + n);
        }
      });
    }
    const pagesBefore = await pragma('page_count');
    clock.advance(100 * DAY);
    const logs = new LogCapture();
    const worker = new RetentionWorker({ store, clock, logger: createLogger('info', logs), days: 90 });
    const report = await worker.runOnce();
    expect(report.deleted.health_reports).toBe(3000);
    expect(report.batches).toBeGreaterThan(2);
    expect(report.pagesFreed).toBeGreaterThan(500);
    // Pointer-map pages go too, so the file shrinks by at least the pages freed.
    expect(await pragma('page_count')).toBeLessThanOrEqual(pagesBefore - report.pagesFreed);
    expect(await pragma('freelist_count')).toBe(0);
    // The per-app state stays: 3,000 failed revisions still known.
    expect(Number((await store.db.selectFrom('revision_states').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n)).toBe(3000);
    expect(logs.entries).toEqual([expect.objectContaining({ msg: 'retention: deleted what was finished and older than 90 days', pagesFreed: report.pagesFreed, deleted: expect.objectContaining({ health_reports: 3000 }) })]);
  });
});
