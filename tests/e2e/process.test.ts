import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/database';
import { currentDelivery } from '../../src/store/deliveries.repository';
import { findEvent, listEvents } from '../../src/store/events.repository';
import { FakeGitHub } from '../support/fake-github';
import { GITHUB_TOKEN, HEALTHY, WEBHOOK_TOKEN, seedBody } from '../support/harness';
import { NotifyReceiver } from '../support/notify-receiver';
import { evaluate, loadWorkflow } from '../support/workflow-runner';
import { runServiceToExit, serviceEnv, spawnService as spawnProcess, type ServiceProcess } from '../support/service-process';

describe('the built service as a real process', () => {
  let github: FakeGitHub;
  let dir: string;
  let env: Record<string, string>;
  const started: ServiceProcess[] = [];
  const spawnService = async (...args: Parameters<typeof spawnProcess>) => {
    const service = await spawnProcess(...args);
    started.push(service);
    return service;
  };

  beforeEach(async () => {
    github = await new FakeGitHub({ token: GITHUB_TOKEN, repos: ['acme/gitops'] }).start();
    dir = mkdtempSync(join(tmpdir(), 'rollback-e2e-'));
    env = serviceEnv(github.url, `sqlite:${join(dir, 'data', 'rollback.db')}`, {
      GITHUB_TIMEOUT_MS: '1500',
      DELIVERY_LEASE_MS: '2000',
      DELIVERY_RETRY_BASE_MS: '50',
    });
  });

  afterEach(async () => {
    for (const service of started) if (service.child.exitCode === null && service.child.signalCode === null) service.child.kill('SIGKILL');
    started.length = 0;
    github.reset();
    await github.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const postRollback = (url: string, i: number) =>
    fetch(`${url}/v1/webhooks/argocd`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${WEBHOOK_TOKEN}` },
      // Bytes, so fetch adds no Content-Type: what Argo CD sends by default.
      body: new TextEncoder().encode(JSON.stringify(seedBody({ app: `app-${i}` }))),
    });

  it('when the process is killed with SIGKILL while deliveries are pending and restarted, then every accepted event reaches GitHub', async () => {
    // GitHub hangs, so the first process holds a lease on one event while the others wait in the queue.
    github.script({ hang: true }, { hang: true }, { hang: true });
    const first = await spawnService(env, dir);
    const accepted = new Set<string>();

    const accept = async (res: Response) => {
      if (res.status === 202) accepted.add(((await res.json()) as { id: string }).id);
    };
    for (let i = 0; i < 20; i++) await postRollback(first.url, i).then(accept);
    await github.waitFor((g) => g.received.length >= 1);

    // More webhooks are arriving when the process dies: every one that got a 202 must survive.
    const inFlight: Array<Promise<void>> = [];
    for (let i = 20; i < 40; i++) {
      inFlight.push(postRollback(first.url, i).then(accept, () => undefined)); // a dropped connection was not accepted; Argo CD retries
      if (i === 30) first.child.kill('SIGKILL');
    }
    await Promise.all(inFlight);
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
    expect(accepted.size).toBeGreaterThanOrEqual(20);
    expect(github.accepted()).toHaveLength(0);

    github.reset();
    const second = await spawnService(env, dir);
    try {
      await github.waitFor((g) => accepted.size > 0 && [...accepted].every((id) => g.accepted().some((r) => r.body?.client_payload?.event_id === id)), 20_000);
      expect(github.received.flatMap((r) => r.schemaErrors)).toEqual([]);
    } finally {
      second.child.kill('SIGTERM');
      expect((await second.exited).code).toBe(0);
    }
    const store = openStore(env.DATABASE_URL!);
    try {
      const events = await listEvents(store.db, { limit: 500 });
      // An event committed just before the kill may never have had its 202 delivered: stored >= accepted.
      expect(events.length).toBeGreaterThanOrEqual(accepted.size);
      expect(events.filter((e) => e.status !== 'delivered')).toEqual([]);
    } finally {
      await store.close();
    }
    expect([...first.lines, ...second.lines].join('\n')).not.toContain(GITHUB_TOKEN);
  });

  it('when the process is killed with SIGKILL while outcomes are pending and restarted, then every one resumes and is verified, each told once', async () => {
    const receiver = await new NotifyReceiver().start();
    try {
      const outcomeEnv: Record<string, string> = { ...env, NOTIFY_URL: receiver.url, OUTCOME_POLL_MS: '50', OUTCOME_POLL_MAX_MS: '200', RUN_LOOKUP_SECONDS: '60' };
      const first = await spawnService(outcomeEnv, dir);
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push(((await (await postRollback(first.url, i)).json()) as { id: string }).id);
      // Delivered, told, and waiting for a workflow run that GitHub has not started yet.
      await receiver.waitFor((r) => r.messages.length === 3);
      const followed = async (base: string) =>
        ((await (await fetch(`${base}/v1/events?outcome=awaiting_run`, { headers: { Authorization: `Bearer ${WEBHOOK_TOKEN}` } })).json()) as { events: unknown[] }).events.length;
      expect(await followed(first.url)).toBe(3);
      first.child.kill('SIGKILL');
      expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });

      // While it was down, GitHub ran the workflows (the values were already identical: no commit).
      for (const dispatch of github.accepted()) {
        const run = github.addRun(evaluate(loadWorkflow()['run-name'], dispatch.body ?? {}), 'completed');
        github.updateRun(run, 'completed', 'success');
      }
      const second = await spawnService(outcomeEnv, dir);
      const store = openStore(outcomeEnv.DATABASE_URL!);
      try {
        const outcomeOf = async (id: string) => (await findEvent(store.db, id))?.event.outcome;
        for (const deadline = Date.now() + 15_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
          if ((await Promise.all(ids.map(outcomeOf))).every((o) => o === 'restored')) break;
        }
        expect(await Promise.all(ids.map(outcomeOf))).toEqual(['restored', 'restored', 'restored']);
        // Argo CD reports each app Healthy after the runs ended: that verifies them.
        for (let i = 0; i < 3; i++) {
          await fetch(`${second.url}/v1/webhooks/argocd`, {
            method: 'POST',
            headers: { Authorization: `Bearer ${WEBHOOK_TOKEN}`, 'Content-Type': 'application/json' },
            body: JSON.stringify({ app: `app-${i}`, status: 'Healthy', revision: HEALTHY }),
          });
        }
        await receiver.waitFor((r) => r.messages.length === 6);
        expect(await Promise.all(ids.map(outcomeOf))).toEqual(['verified', 'verified', 'verified']);
        for (const id of ids) expect(receiver.texts().filter((t) => t.endsWith(`event ${id}`)).map((t) => /: (rollback [A-Za-z ]+)/.exec(t)?.[1]?.trim())).toEqual(['rollback dispatched to GitHub', 'rollback verified']);
      } finally {
        await store.close();
        second.child.kill('SIGTERM');
        expect((await second.exited).code).toBe(0);
      }
    } finally {
      await receiver.stop();
    }
  });

  it('when SIGTERM arrives during a dispatch, then the dispatch finishes, the event is delivered and the process exits 0', async () => {
    github.script({ status: 204, delayMs: 500 });
    const service = await spawnService(env, dir);
    const res = await postRollback(service.url, 1);
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    await github.waitFor((g) => g.received.length === 1);
    service.child.kill('SIGTERM');
    expect(await service.exited).toEqual({ code: 0, signal: null });

    const store = openStore(env.DATABASE_URL!);
    try {
      expect((await findEvent(store.db, id))?.event).toMatchObject({ status: 'delivered' });
      expect(await currentDelivery(store.db, id)).toMatchObject({ state: 'delivered', lease_owner: null });
    } finally {
      await store.close();
    }
    const messages = service.lines.map((l) => (JSON.parse(l) as { msg: string }).msg);
    // The dispatch in flight ends (delivered) before the delivery worker stops, and the process says so last.
    expect(messages.slice(-2)).toEqual(['delivery worker stopped', 'stopped']);
    expect(messages.lastIndexOf('delivered')).toBeGreaterThan(-1);
    expect(messages.lastIndexOf('delivered')).toBeLessThan(messages.indexOf('delivery worker stopped'));
    expect(messages.indexOf('shutting down')).toBeLessThan(messages.indexOf('delivery worker stopped'));
  });

  it('when requests arrive through a proxy the service does not trust, then every line the process writes is JSON', async () => {
    const service = await spawnService(env, dir);
    for (let i = 0; i < 3; i++) {
      await fetch(`${service.url}/v1/webhooks/argocd`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${WEBHOOK_TOKEN}`, 'Content-Type': 'application/json', 'X-Forwarded-For': `203.0.113.${i}` },
        body: JSON.stringify(seedBody({ app: `proxied-${i}` })),
      });
    }
    service.child.kill('SIGTERM');
    expect((await service.exited).code).toBe(0);
    const lines = [...service.lines, ...service.stderr().split('\n')].filter((l) => l.trim() !== '');
    for (const line of lines) expect(() => JSON.parse(line) as unknown).not.toThrow();
    expect(lines.map((l) => (JSON.parse(l) as { msg?: string }).msg)).toContainEqual(expect.stringMatching(/^X-Forwarded-For received but TRUST_PROXY=false/));
  });

  it('when SIGTERM arrives while a webhook is still being uploaded, then new connections are refused, the upload finishes with its 202, and the process exits 0', async () => {
    const service = await spawnService(env, dir);
    const body = JSON.stringify(seedBody({ app: 'slow-upload' }));
    const { port } = new URL(service.url);
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port, method: 'POST', path: '/v1/webhooks/argocd', headers: { Authorization: `Bearer ${WEBHOOK_TOKEN}`, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        },
      );
      req.on('error', reject);
      req.write(body.slice(0, 20));
      // Half the body is in; the rest comes after SIGTERM.
      void (async () => {
        await new Promise((r) => setTimeout(r, 100));
        service.child.kill('SIGTERM');
        for (const deadline = Date.now() + 5000; Date.now() < deadline && !service.lines.some((l) => l.includes('"shutting down"')); await new Promise((r) => setTimeout(r, 10)));
        await expect(fetch(`${service.url}/readyz`)).rejects.toThrow();
        req.end(body.slice(20));
      })();
    });
    const result = await answer;
    expect(result.status).toBe(202);
    expect(JSON.parse(result.body)).toMatchObject({ status: 'queued', app: 'slow-upload' });
    expect((await service.exited).code).toBe(0);
    const store = openStore(env.DATABASE_URL!);
    try {
      expect((await listEvents(store.db, { app: 'slow-upload', limit: 5 })).map((e) => e.status)).toEqual(['queued']);
    } finally {
      await store.close();
    }
  });

  it('when `main.js check` runs against a working GitHub, then every check prints ok and it exits 0; against a wrong repository, it names the failure and exits 1', async () => {
    const good = await runServiceToExit({ ...env, PATH: process.env.PATH ?? '' }, dir, ['check']);
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/^ok {4}store sqlite answers\nok {4}acme\/gitops repository: .*\nok {4}acme\/gitops dispatch: .*\nok {4}acme\/gitops actions: .*\nEvery check passed\.\n$/);
    const bad = await runServiceToExit({ ...env, REPO_NAME: 'no-such-repo' }, dir, ['check']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('FAIL  acme/no-such-repo repository: GitHub answered 404: Not Found; check REPO_OWNER/REPO_NAME');
    expect(bad.stdout + bad.stderr).not.toContain(GITHUB_TOKEN);
  });

  it('when clients are slow or lie about their size, then they are cut off by the timeouts, a 10 MB declared body gets 413 at once, and a normal webhook is answered meanwhile', async () => {
    const service = await spawnService({ ...env, HTTP_HEADERS_TIMEOUT_MS: '1000', HTTP_REQUEST_TIMEOUT_MS: '2000' }, dir);
    const { port } = new URL(service.url);
    const open = (first: string) => {
      const socket = connect(Number(port), '127.0.0.1');
      let answer = '';
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
      socket.on('error', () => undefined);
      socket.write(first);
      const closedAfter = new Promise<{ ms: number; answer: string }>((resolve) => {
        const started = Date.now();
        socket.on('close', () => resolve({ ms: Date.now() - started, answer }));
      });
      return { socket, closedAfter };
    };
    // 20 slowloris connections: headers that never end.
    const slow = Array.from({ length: 20 }, () => open('POST /v1/webhooks/argocd HTTP/1.1\r\nHost: x\r\nX-Slow: '));
    // A body that claims 10 MB and sends 10 bytes.
    const liar = open(`POST /v1/webhooks/argocd HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${WEBHOOK_TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 10485760\r\n\r\n{"app":"x"`);
    const started = Date.now();
    const normal = await postRollback(service.url, 1);
    expect(normal.status).toBe(202);
    expect(Date.now() - started).toBeLessThan(1000);

    const lied = await liar.closedAfter;
    expect(lied.answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(lied.ms).toBeLessThan(2500);
    for (const { closedAfter } of slow) expect((await closedAfter).ms).toBeLessThan(4000);
    service.child.kill('SIGTERM');
    expect((await service.exited).code).toBe(0);
  });

  it('when 1,100 idle sockets from 11 addresses fill HTTP_MAX_CONNECTIONS and reopen as they are cut, then probes and a webhook from another address are still answered, each at once', async () => {
    // Long timeouts: the idle sockets stay until something closes them.
    const service = await spawnService({ ...env, HTTP_HEADERS_TIMEOUT_MS: '60000', HTTP_REQUEST_TIMEOUT_MS: '60000' }, dir);
    const port = Number(new URL(service.url).port);
    let cut = 0;
    let stopped = false;
    const sockets = new Set<ReturnType<typeof connect>>();
    const hold = (localAddress: string) => {
      const socket = connect({ port, host: '127.0.0.1', localAddress });
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.once('close', () => {
        sockets.delete(socket);
        cut += 1;
        // The attacker opens another at once.
        if (!stopped) hold(localAddress);
      });
    };
    for (let a = 2; a <= 12; a++) for (let i = 0; i < 100; i++) hold(`127.0.0.${a}`);
    // 1,100 against a cap of 1,000: the service has closed at least 100 of them (whichever rule it follows).
    const deadline = Date.now() + 20_000;
    while (cut < 100 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(cut).toBeGreaterThanOrEqual(100);

    // A fresh connection for each request, as a kubelet probe makes.
    const get = (path: string) =>
      new Promise<number>((resolve) => {
        const req = httpRequest({ host: '127.0.0.1', port, path, agent: false, timeout: 5000 }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('timeout', () => req.destroy());
        req.on('error', () => resolve(0));
        req.end();
      });
    const answers: number[] = [];
    for (let i = 0; i < 20; i++) answers.push(await get(i % 2 === 0 ? '/healthz' : '/readyz'));
    expect(answers).toEqual(Array.from({ length: 20 }, () => 200));
    expect((await postRollback(service.url, 1)).status).toBe(202);
    stopped = true;
    for (const socket of sockets) socket.destroy();
    service.child.kill('SIGTERM');
    expect((await service.exited).code).toBe(0);
  }, 60_000);

  it('when it starts, then the listening line names the socket and the URL this machine reaches it at', async () => {
    const service = await spawnService(env, dir);
    const listening = service.lines.map((l) => JSON.parse(l) as { msg?: string; listen?: string; url?: string }).find((l) => l.msg === 'listening')!;
    const port = new URL(service.url).port;
    expect(listening).toMatchObject({ listen: `127.0.0.1:${port}`, url: `http://127.0.0.1:${port}` });
  });

  it('when `main.js check` cannot reach GitHub, then it names GITHUB_API_URL as what to check and exits 1', async () => {
    const closed = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const result = await runServiceToExit({ ...env, GITHUB_API_URL: `http://127.0.0.1:${closed}` }, dir, ['check']);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('FAIL  acme/gitops repository: no answer from GitHub');
    expect(result.stdout).toContain('check GITHUB_API_URL and that this host reaches it');
  });

  it('when its port is already in use, then it says so in one line naming the port and PORT, with no stack, and exits 1', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const { port } = taken.address() as AddressInfo;
    try {
      const result = await runServiceToExit({ ...env, PORT: String(port) }, dir);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(`gitops-rollback-webhook failed to start: port ${port} is already in use (127.0.0.1:${port}): stop what listens there, or set PORT to a free port\n`);
    } finally {
      await new Promise<void>((r) => taken.close(() => r()));
    }
  });

  it('when the configuration is invalid, then it lists every problem, exits 1, prints no stack and no secret', async () => {
    const result = await runServiceToExit({ GH_PAT_WEBHOOK: GITHUB_TOKEN, WEBHOOK_TOKEN: 'tooshortsecret', PORT: 'http' }, dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^Invalid configuration:/);
    for (const name of ['REPO_OWNER', 'REPO_NAME', 'WEBHOOK_TOKEN', 'PORT']) expect(result.stderr).toContain(`  - ${name}:`);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stderr + result.stdout).not.toContain('tooshortsecret');
    expect(result.stderr + result.stdout).not.toContain(GITHUB_TOKEN);
  });
});
