import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/database';
import { listEvents } from '../../src/store/events.repository';
import { createPostgresDatabase, type TestDatabase } from '../support/dialects';
import { FakeGitHub } from '../support/fake-github';
import { GITHUB_TOKEN, WEBHOOK_TOKEN, failedRevision } from '../support/harness';
import { serviceEnv, spawnService, type ServiceProcess } from '../support/service-process';
import { NotifyReceiver } from '../support/notify-receiver';
import { TcpProxy } from '../support/tcp-proxy';
import { evaluate, loadWorkflow } from '../support/workflow-runner';

// PostgreSQL is always there: tests/global-setup.ts provides one (the machine's, or one it starts).
describe('several replicas on one PostgreSQL database (real processes)', () => {
  let github: FakeGitHub;
  let database: TestDatabase;
  let dir: string;
  const services: ServiceProcess[] = [];

  beforeEach(async () => {
    github = await new FakeGitHub({ token: GITHUB_TOKEN, repos: ['acme/gitops'] }).start();
    database = await createPostgresDatabase();
    dir = mkdtempSync(join(tmpdir(), 'rollback-replicas-'));
  });

  afterEach(async () => {
    for (const s of services.splice(0)) {
      if (s.child.exitCode === null && s.child.signalCode === null) {
        s.child.kill('SIGKILL');
        await s.exited;
      }
    }
    github.reset();
    await github.stop();
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const env = (overrides: Record<string, string> = {}) =>
    serviceEnv(github.url, database.url, {
      GITHUB_TIMEOUT_MS: '1500',
      DELIVERY_LEASE_MS: '2000',
      DELIVERY_RETRY_BASE_MS: '50',
      INGRESS_RATE_LIMIT_PER_MINUTE: '0',
      ...overrides,
    });
  const start = async (overrides?: Record<string, string>) => {
    const service = await spawnService(env(overrides), dir);
    services.push(service);
    return service;
  };
  const rollback = (service: ServiceProcess, n: number, app = `app-${n}`) =>
    fetch(`${service.url}/v1/webhooks/argocd`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${WEBHOOK_TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ client_payload: { app, failed_revision: failedRevision(n), healthy_revision: '3b7e0c5a9d2f41e8b6c7a1f0e9d8c7b6a5f4e3d2' } }),
    });
  const storedEvents = async () => {
    const store = openStore(database.url);
    try {
      return await listEvents(store.db, { limit: 500 });
    } finally {
      await store.close();
    }
  };
  /**
   * Waits until every stored event is delivered (the store, not GitHub's count, is the truth), for as long
   * as deliveries go on: it gives up only when none was delivered for `stallMs` (a loaded machine is
   * slow, a stuck queue does not move). A fixed deadline failed under load with the queue still moving.
   */
  const allDelivered = async (stallMs = 20_000) => {
    let progress = { delivered: -1, at: Date.now() };
    for (;;) {
      const events = await storedEvents();
      const delivered = events.filter((e) => e.status === 'delivered').length;
      if (delivered === events.length) return events;
      if (delivered > progress.delivered) progress = { delivered, at: Date.now() };
      else if (Date.now() - progress.at > stallMs) throw new Error(`${events.length - delivered} events undelivered, none delivered for ${stallMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const acceptedIds = () => github.accepted().map((r) => String(r.body?.client_payload?.event_id));

  it('when 500 rollbacks are spread over two replicas, then GitHub receives each exactly once', async () => {
    // Started together on an empty schema: both run the migrations at once (Kysely's migration lock).
    const replicas = await Promise.all([start(), start()]);
    const ids: string[] = [];
    for (let batch = 0; batch < 500; batch += 25) {
      const answers = await Promise.all(Array.from({ length: 25 }, (_, i) => rollback(replicas[(batch + i) % 2]!, batch + i)));
      for (const answer of answers) {
        expect(answer.status).toBe(202);
        ids.push(((await answer.json()) as { id: string }).id);
      }
    }
    const events = await allDelivered(60_000);
    expect(events).toHaveLength(500);
    expect(acceptedIds().sort()).toEqual([...ids].sort());
    expect(github.maxConcurrent).toBe(1); // one token: one dispatch at a time across both replicas
    const deliveredBy = replicas.map((r) => r.lines.filter((l) => l.includes('"msg":"delivered"')).length);
    expect(deliveredBy[0]! + deliveredBy[1]!).toBe(500);
    // 8–14 s alone; the budget covers the 60 s drain wait above on a busy machine.
  }, 90_000);

  it('when the same rollback is posted to both replicas at once, then one event and one dispatch', async () => {
    const replicas = [await start(), await start()];
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => rollback(replicas[i % 2]!, 7, 'podinfo-prod')));
    const bodies = await Promise.all(answers.map(async (a) => ({ status: a.status, body: (await a.json()) as { id: string; status: string } })));
    const accepted = bodies.filter((b) => b.status === 202);
    expect(accepted).toHaveLength(1);
    expect(bodies.filter((b) => b.status === 200).map((b) => b.body)).toEqual(Array(9).fill({ status: 'duplicate', id: accepted[0]!.body.id }));
    await github.waitFor((g) => g.accepted().length === 1);
    expect(await storedEvents()).toHaveLength(1);
    expect(github.received).toHaveLength(1);
  });

  it('when two replicas follow 20 rollbacks to their outcome, then each outcome is recorded once and each message sent once', async () => {
    const receiver = await new NotifyReceiver().start();
    try {
      // Every run is there as soon as it is dispatched, and succeeds with nothing to change.
      github.onAccepted = (dispatch) => {
        const run = github.addRun(evaluate(loadWorkflow()['run-name'], dispatch.body ?? {}), 'in_progress');
        github.updateRun(run, 'completed', 'success');
      };
      const settings = { NOTIFY_URL: receiver.url, OUTCOME_POLL_MS: '20', OUTCOME_POLL_MAX_MS: '100' };
      const replicas = await Promise.all([start(settings), start(settings)]);
      const ids: string[] = [];
      for (let n = 0; n < 20; n++) {
        const res = await rollback(replicas[n % 2]!, n);
        ids.push(((await res.json()) as { id: string }).id);
      }
      const store = openStore(database.url);
      try {
        const outcomes = async () => (await listEvents(store.db, { limit: 500 })).map((e) => e.outcome);
        for (const deadline = Date.now() + 20_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
          if ((await outcomes()).every((o) => o === 'restored')) break;
        }
        expect(new Set(await outcomes())).toEqual(new Set(['restored']));
        for (let n = 0; n < 20; n++) {
          await fetch(`${replicas[(n + 1) % 2]!.url}/v1/webhooks/argocd`, {
            method: 'POST',
            headers: { Authorization: `Bearer ${WEBHOOK_TOKEN}`, 'Content-Type': 'application/json' },
            body: JSON.stringify({ app: `app-${n}`, status: 'Healthy', revision: '3b7e0c5a9d2f41e8b6c7a1f0e9d8c7b6a5f4e3d2' }),
          });
        }
        await receiver.waitFor((r) => r.messages.length >= 40, 20_000);
        expect(new Set(await outcomes())).toEqual(new Set(['verified']));
        const history = await store.db.selectFrom('outcome_history').select(['event_id', 'outcome']).orderBy('at').orderBy('id').execute();
        for (const id of ids) {
          expect(history.filter((h) => h.event_id === id).map((h) => h.outcome)).toEqual(['awaiting_run', 'restoring', 'restored', 'verified']);
        }
      } finally {
        await store.close();
      }
      // Every message once: no replica told what the other had already told.
      const perEvent = ids.map((id) => receiver.texts().filter((t) => t.endsWith(`event ${id}`)).length);
      expect(perEvent).toEqual(ids.map(() => 2));
      expect(receiver.messages).toHaveLength(40);
    } finally {
      await receiver.stop();
    }
  });

  it('when a replica holding leases is killed, then the other delivers its events after the lease expires', async () => {
    github.script({ hang: true });
    // Its hung dispatch must outlast the survivor's start (1.5 s was not always enough on a busy machine:
    // the doomed replica timed out, sent the next event, and died before recording it, so that one went
    // out twice, which is at-least-once working, not what this case is about).
    const doomed = await start({ GITHUB_TIMEOUT_MS: '5000', DELIVERY_LEASE_MS: '6000' });
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push(((await (await rollback(doomed, i)).json()) as { id: string }).id);
    await github.waitFor((g) => g.received.length === 1);
    const survivor = await start();
    doomed.child.kill('SIGKILL');
    expect(await doomed.exited).toEqual({ code: null, signal: 'SIGKILL' });
    github.reset();

    const events = await allDelivered(30_000);
    expect(events).toHaveLength(20);
    expect(acceptedIds().sort()).toEqual([...ids].sort());
    // The event the dead replica was sending went out again only after its lease had expired.
    const retaken = events.find((e) => e.id === github.received[0]!.body?.client_payload?.event_id);
    expect(retaken?.attempts).toBe(1);
    expect(survivor.lines.some((l) => l.includes('"msg":"delivered"'))).toBe(true);
  });

  it('when PostgreSQL goes away under load, then webhooks answer 503 with nothing half-stored, and both paths recover on their own', async () => {
    const target = new URL(process.env.TEST_POSTGRES_URL!);
    const proxy = await new TcpProxy(target.hostname, Number(target.port || 5432)).up();
    const viaProxy = new URL(database.url);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    const service = await start({ DATABASE_URL: viaProxy.toString() });

    const outcomes = new Map<number, number>();
    const send = async (n: number) => {
      const status = await rollback(service, n).then(
        (r) => r.status,
        () => 0,
      );
      outcomes.set(n, status);
      return status;
    };
    for (let n = 0; n < 10; n++) await send(n);
    await allDelivered();

    // Under load: 40 webhooks in flight when the database goes away.
    let answered = 0;
    const batch = Array.from({ length: 40 }, (_, i) => send(10 + i).then(() => (answered += 1)));
    while (answered < 5) await new Promise((r) => setImmediate(r));
    await proxy.down();
    await Promise.all(batch);
    for (let n = 50; n < 60; n++) expect(await send(n)).toBe(503);
    expect([...outcomes.values()].every((status) => status === 202 || status === 503)).toBe(true);
    expect([...outcomes.values()].filter((status) => status === 503).length).toBeGreaterThanOrEqual(10);
    expect((await fetch(`${service.url}/readyz`)).status).toBe(503);
    // The worker notices too and backs off instead of spinning.
    await new Promise<void>((resolve) => {
      const check = () => (service.lines.some((l) => l.includes('"component":"delivery"') && l.includes('store error; backing off')) ? resolve() : setTimeout(check, 20));
      check();
    });

    await proxy.up();
    // Recovery needs no restart: keep sending until the store answers again (bounded).
    let n = 60;
    for (const deadline = Date.now() + 20_000; Date.now() < deadline; n++) {
      if ((await send(n)) === 202) break;
    }
    expect(outcomes.get(n)).toBe(202);
    expect((await fetch(`${service.url}/readyz`)).status).toBe(200);

    const events = await allDelivered();
    const store = openStore(database.url);
    const reports = await store.db.selectFrom('health_reports').select('revision').execute();
    await store.close();
    const stored = new Set(events.map((e) => e.failedRevision));
    const reported = new Set(reports.map((r) => r.revision));
    for (const [k, status] of outcomes) {
      const revision = failedRevision(k);
      // Nothing half-stored: the event and its failed-revision record exist together or not at all.
      expect([revision, stored.has(revision)]).toEqual([revision, reported.has(revision)]);
      // Every 202 is stored. A 503 is normally not; it can be, when the commit reached PostgreSQL but its
      // acknowledgement was cut: then it is whole, and Argo CD's retry answers "duplicate".
      if (status === 202) expect([revision, stored.has(revision)]).toEqual([revision, true]);
    }
    // At least once: every stored event reached GitHub (one whose result was lost with the connection goes again).
    expect(new Set(acceptedIds())).toEqual(new Set(events.map((e) => e.id)));
    expect(service.child.exitCode).toBeNull(); // a dropped connection never crashed the process
    await proxy.down();
  });

  it('when the network to PostgreSQL goes silent without closing (half-open), then webhooks get 503 within a bound, workers resume when it heals, and SIGTERM ends within its drain time', async () => {
    const target = new URL(process.env.TEST_POSTGRES_URL!);
    const proxy = await new TcpProxy(target.hostname, Number(target.port || 5432)).up();
    const viaProxy = new URL(database.url);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    const limits = { PG_QUERY_TIMEOUT_MS: '1500', PG_CONNECT_TIMEOUT_MS: '1000', PG_POOL_WAIT_MS: '2000', PG_KEEPALIVE_MS: '1000', SHUTDOWN_TIMEOUT_MS: '2000' };
    const service = await start({ DATABASE_URL: viaProxy.toString(), ...limits });
    for (let n = 0; n < 5; n++) expect((await rollback(service, n)).status).toBe(202);
    await allDelivered();

    proxy.stall();
    // Each answer comes within the bounds (the client's read timeout, 2.5 s, or the pool's wait), never a hang.
    for (let n = 5; n < 9; n++) {
      const started = Date.now();
      const answer = await rollback(service, n);
      expect([n, answer.status]).toEqual([n, 503]);
      expect(answer.headers.get('retry-after')).toMatch(/^[15]$/);
      expect(Date.now() - started).toBeLessThan(6000);
    }
    const ready = Date.now();
    expect((await fetch(`${service.url}/readyz`)).status).toBe(503);
    expect(Date.now() - ready).toBeLessThan(6000);

    proxy.heal();
    // No restart: webhooks are stored again, and every one accepted reaches GitHub.
    let n = 9;
    for (const deadline = Date.now() + 20_000; Date.now() < deadline; n++) if ((await rollback(service, n)).status === 202) break;
    expect((await rollback(service, 100)).status).toBe(202);
    const events = await allDelivered();
    expect(new Set(acceptedIds())).toEqual(new Set(events.map((e) => e.id)));

    // Silent again, then SIGTERM: the workers' stuck steps end at their timeouts; the process exits, 0.
    proxy.stall();
    await rollback(service, 101).catch(() => undefined);
    const stopping = Date.now();
    service.child.kill('SIGTERM');
    const exited = await service.exited;
    expect(exited.code).toBe(0);
    expect(Date.now() - stopping).toBeLessThan(2000 + 3 * 2500 + 2000);
    proxy.heal();
    await proxy.down();
  });
});
