import request from 'supertest';
import { createLogger } from '../../src/logger';
import { Notifier } from '../../src/notify/notifier';
import { openStore, type Store } from '../../src/store/database';
import { enqueueNotification } from '../../src/store/notifications.repository';
import type { NotificationMessage } from '../../src/domain/notification';
import { DIALECTS } from '../support/dialects';
import { ADMIN_TOKEN, createHarness, type Harness } from '../support/harness';
import { NotifyReceiver } from '../support/notify-receiver';
import { until } from '../support/until';

const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };
const FAILED = '9f1c2e7d4b8a6f3e0d5c1b9a7e2f4d6c8b0a3e51';

/**
 * The outbox through the real notifier and a real receiver: a message refused for good does not block
 * the ones after it, and each app's messages arrive in the order they were written, with two replicas
 * sending at once.
 */
describe.each(DIALECTS)('notifications on %s', (_dialect, createDatabase) => {
  let h: Harness;
  let receiver: NotifyReceiver;
  const replicas: Array<{ store: Store; notifier: Notifier }> = [];

  beforeEach(async () => {
    receiver = await new NotifyReceiver().start();
    h = await createHarness({ database: await createDatabase(), env: { DRY_RUN: 'true', NOTIFY_URL: receiver.url, NOTIFY_FORMAT: 'json' } });
  });
  afterEach(async () => {
    for (const r of replicas.splice(0)) {
      await r.notifier.stop();
      await r.store.close();
    }
    expect(h.logs.text()).not.toContain(receiver.url);
    await h.close();
    await receiver.stop();
  });

  let n = 0;
  const message = (app: string, reason: string): NotificationMessage => ({ kind: 'suppressed', app, eventId: null, failedRevision: FAILED, healthyRevision: null, reason, link: null, at: h.clock.now() + n++ });
  /** Writes messages as the news that makes them does: in a transaction, then wakes the notifier. */
  const write = async (messages: NotificationMessage[]) => {
    await h.store.transaction(async (trx) => {
      for (const m of messages) await enqueueNotification(trx, true, m);
    });
    h.workers!.onNotification();
  };
  /** The receiver answers before the notifier records the send: wait for the outbox to settle. */
  const settled = () => until(async () => (await h.store.db.selectFrom('notifications').select('id').where('due_at', 'is not', null).execute()).length === 0, 'every message recorded');
  const reasons = (app: string) => receiver.messages.filter((m) => m.app === app).map((m) => m.reason);

  it('when the receiver refuses a message for good, then it is marked failed with the answer, counted and shown, and the 10 after it are all delivered', async () => {
    receiver.refuseWith = (m) => (m.reason === 'refused one' ? 400 : undefined);
    await write([message('podinfo-prod', 'refused one'), ...Array.from({ length: 10 }, (_, i) => message('podinfo-prod', `later ${i}`))]);
    await receiver.waitFor((r) => r.messages.length === 10);
    await settled();

    expect(reasons('podinfo-prod')).toEqual(Array.from({ length: 10 }, (_, i) => `later ${i}`));
    expect(receiver.refused).toBe(1);
    const rows = await h.store.db.selectFrom('notifications').select(['status', 'last_error', 'attempts', 'due_at']).orderBy('id').execute();
    expect(rows[0]).toEqual({ status: 'failed', last_error: 'the receiver answered 400', attempts: 1, due_at: null });
    expect(rows.slice(1).every((r) => r.status === 'sent' && r.due_at === null)).toBe(true);
    expect(h.logs.entries).toContainEqual(expect.objectContaining({ level: 50, component: 'notify', msg: expect.stringMatching(/^notification refused for good: the receiver answered 400; marked failed/) }));

    const metrics = await request(h.app).get('/metrics').set(admin);
    expect(metrics.text).toMatch(/^rollback_notifications_total\{result="failed"\} 1$/m);
    expect(metrics.text).toMatch(/^rollback_notifications_total\{result="sent"\} 10$/m);
    expect(metrics.text).toMatch(/^rollback_notifications_failed 1$/m);
    expect(metrics.text).toMatch(/^rollback_notifications_pending 0$/m);

    const agent = request.agent(h.app);
    await agent.post('/ui/login').type('form').send({ name: 'Ana Ops', token: ADMIN_TOKEN, next: '/ui/' });
    const overview = (await agent.get('/ui/')).text;
    expect(overview).toContain('1 notification refused by the receiver');
    expect(overview).toContain('the receiver answered 400');
  });

  it('when a receiver is busy (429) or down (503), then the message is tried again, not failed', async () => {
    let answers = [429, 503];
    receiver.refuseWith = () => answers.shift();
    await write([message('podinfo-prod', 'eventually')]);
    await receiver.waitFor((r) => r.messages.length === 1);
    await settled();
    expect(receiver.refused).toBe(2);
    expect(await h.store.db.selectFrom('notifications').select(['status', 'attempts']).execute()).toEqual([{ status: 'sent', attempts: 3 }]);
    answers = [];
  });

  it("when a message is still refused after NOTIFY_MAX_ATTEMPTS sends, then it ends failed with why, and its app's next messages go", async () => {
    await h.close();
    h = await createHarness({ database: await createDatabase(), env: { DRY_RUN: 'true', NOTIFY_URL: receiver.url, NOTIFY_FORMAT: 'json', NOTIFY_MAX_ATTEMPTS: '2' } });
    // The first message keeps getting 503; the one after it must not wait for ever.
    receiver.refuseWith = (m) => (m.reason === 'down for it' ? 503 : undefined);
    await write([message('podinfo-prod', 'down for it'), message('podinfo-prod', 'next one')]);
    await receiver.waitFor(() => reasons('podinfo-prod').includes('next one'), 15_000);
    await settled();
    const rows = await h.store.db.selectFrom('notifications').select(['status', 'attempts', 'last_error']).where('app', '=', 'podinfo-prod').orderBy('id').execute();
    expect(rows).toEqual([
      { status: 'failed', attempts: 2, last_error: 'the receiver answered 503; gave up after 2 attempts (NOTIFY_MAX_ATTEMPTS)' },
      { status: 'sent', attempts: 1, last_error: null },
    ]);
  });

  it("when the receiver redirects, then the message ends failed at once naming where it points (not followed), and the app's next messages go", async () => {
    receiver.redirectWith = (m) => (m.reason === 'redirected' ? 'https://hooks.example.test/services/T9/B9/moved-not-a-secret' : undefined);
    await write([message('web', 'redirected'), message('web', 'after it')]);
    await receiver.waitFor(() => reasons('web').includes('after it'));
    await settled();
    const rows = await h.store.db.selectFrom('notifications').select(['status', 'attempts', 'last_error']).where('app', '=', 'web').orderBy('id').execute();
    expect(rows).toEqual([
      { status: 'failed', attempts: 1, last_error: 'the receiver answered 301, redirecting to https://hooks.example.test; redirects are not followed: set NOTIFY_URL to the address it redirects to' },
      { status: 'sent', attempts: 1, last_error: null },
    ]);
    expect(h.logs.text()).not.toContain('moved-not-a-secret');
  });

  it("when two replicas send the outbox at once, then each app's messages arrive in the order they were written, each once", async () => {
    for (const name of ['replica-a', 'replica-b']) {
      const store = openStore(h.config.databaseUrl);
      const notifier = new Notifier({ store, clock: h.clock, logger: createLogger('silent'), url: receiver.url, format: 'json', maxAttempts: 20, timeoutMs: 2000, leaseMs: 10_000, pollIntervalMs: 20, owner: name });
      replicas.push({ store, notifier });
    }
    const apps = ['app-a', 'app-b', 'app-c'];
    const written = Array.from({ length: 30 }, (_, i) => message(apps[i % 3]!, `${apps[i % 3]} #${Math.floor(i / 3)}`));
    await write(written);
    for (const r of replicas) r.notifier.start();
    await receiver.waitFor((r) => r.messages.length === 30);

    for (const app of apps) expect(reasons(app)).toEqual(Array.from({ length: 10 }, (_, i) => `${app} #${i}`));
    expect(new Set(receiver.messages.map((m) => m.reason)).size).toBe(30);
  });
});
