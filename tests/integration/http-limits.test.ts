import { get as httpGet, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect, type Socket } from 'node:net';
import { loadConfig } from '../../src/config/config';
import { createLogger } from '../../src/logger';
import { startService, type RunningService } from '../../src/service';
import { createSqliteDatabase, type TestDatabase } from '../support/dialects';
import { ADMIN_TOKEN, WEBHOOK_TOKEN, seedBody } from '../support/harness';
import { until } from '../support/until';

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** Interim answers before the final one (100 Continue). */
  informational: number[];
}

/** One request on its own connection to the real listener, with exactly these header lines. */
function send(url: string, path: string, headers: Array<[string, string]>, body: string | undefined, waitForContinue = false, localAddress?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const informational: number[] = [];
    const req = httpRequest(`${url}${path}`, { method: 'POST', agent: false, localAddress });
    for (const [name, value] of headers) req.appendHeader(name, value);
    req.on('information', (info) => informational.push(info.statusCode));
    req.on('continue', () => req.end(body));
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, informational }));
    });
    req.on('error', reject);
    if (waitForContinue) req.flushHeaders();
    else req.end(body);
  });
}

describe('the listener: Expect: 100-continue and header lines', () => {
  let database: TestDatabase;
  let service: RunningService;
  beforeAll(async () => {
    database = createSqliteDatabase();
    const config = loadConfig({ REPO_OWNER: 'acme', REPO_NAME: 'gitops', DRY_RUN: 'true', WEBHOOK_TOKEN, ADMIN_TOKEN, DATABASE_URL: database.url, HOST: '127.0.0.1', PORT: '0' });
    service = await startService(config, createLogger('silent'), { workers: false });
  });
  afterAll(async () => {
    await service.stop();
    await database.drop();
  });

  const body = JSON.stringify(seedBody());
  const json: Array<[string, string]> = [['Content-Type', 'application/json'], ['Content-Length', String(Buffer.byteLength(body))]];

  it('when a client asks to continue without a right token, then no 100 Continue: 401 at once; with the webhook token, 100 then 202', async () => {
    const refused = await send(service.url, '/v1/webhooks/argocd', [...json, ['Expect', '100-continue'], ['Authorization', 'Bearer not-the-token-0123456789']], body, true);
    expect(refused.informational).toEqual([]);
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.body)).toMatchObject({ error: { code: 'UNAUTHORIZED' } });

    const accepted = await send(service.url, '/v1/webhooks/argocd', [...json, ['Expect', '100-continue'], ['Authorization', `Bearer ${WEBHOOK_TOKEN}`]], body, true);
    expect(accepted.informational).toEqual([100]);
    expect(accepted.status).toBe(202);
  });

  it('when an address has used up its failure budget, then even its right token gets 429 before any 100 Continue: a guess with Expect learns nothing', async () => {
    const from = '127.0.0.23';
    for (let i = 0; i < 20; i++) {
      const wrong = await send(service.url, '/v1/webhooks/argocd', [...json, ['Expect', '100-continue'], ['Authorization', `Bearer wrong-guess-${i}-0123456789`]], body, true, from);
      expect([wrong.status, wrong.informational]).toEqual([401, []]);
    }
    for (const [path, token] of [
      ['/v1/webhooks/argocd', WEBHOOK_TOKEN],
      ['/v1/webhooks/argocd', 'still-guessing-0123456789'],
      ['/v1/events/01a2290a-6d1c-7b3e-9f00-4c8e2b1d0a99/replay', ADMIN_TOKEN],
    ] as const) {
      const answer = await send(service.url, path, [...json, ['Expect', '100-continue'], ['Authorization', `Bearer ${token}`]], body, true, from);
      expect([path, answer.status, answer.informational]).toEqual([path, 429, []]);
      expect(answer.headers['retry-after']).toMatch(/^\d+$/);
    }
    // Another address is not slowed, and its right token still gets its 100 first.
    const other = await send(service.url, '/v1/webhooks/argocd', [...json, ['Expect', '100-continue'], ['Authorization', `Bearer ${WEBHOOK_TOKEN}`]], JSON.stringify(seedBody({ failed_revision: 'c'.repeat(40) })), true, '127.0.0.24');
    expect([other.status, other.informational]).toEqual([202, [100]]);
  });

  it.each([201, 1100])('when a request carries %i header lines, then 431 TOO_MANY_HEADERS, not a misleading "empty body"', async (lines) => {
    // Node's client adds Host and Connection to the three lines here.
    const padding: Array<[string, string]> = Array.from({ length: lines - 5 }, (_, i) => [`x-${i}`, 'v']);
    const res = await send(service.url, '/v1/webhooks/argocd', [...json, ['Authorization', `Bearer ${WEBHOOK_TOKEN}`], ...padding], body);
    expect(res.status).toBe(431);
    expect(JSON.parse(res.body)).toEqual({ error: { code: 'TOO_MANY_HEADERS', message: `${lines} header lines; the service reads at most 200` } });
  });

  it('when a request carries 200 header lines, then it is read as usual', async () => {
    const padding: Array<[string, string]> = Array.from({ length: 195 }, (_, i) => [`x-${i}`, 'v']);
    const res = await send(service.url, '/v1/webhooks/argocd', [...json, ['Authorization', `Bearer ${WEBHOOK_TOKEN}`], ...padding], JSON.stringify(seedBody({ failed_revision: 'b'.repeat(40) })));
    expect(res.status).toBe(202);
  });

  it('when one address holds 1,100 idle connections, then it keeps 100, the rest are closed at once, and a probe from another address is answered', async () => {
    const { port } = new URL(service.url);
    const sockets: Socket[] = [];
    let closed = 0;
    // A hundred at a time, each hundred settled (connected, or closed) before the next: 1,100 at once
    // would overflow the listen backlog and leave the kernel retrying SYNs for seconds.
    for (let chunk = 0; chunk < 11; chunk += 1) {
      const batch = Array.from({ length: 100 }, () => {
        const socket = connect({ host: '127.0.0.1', port: Number(port) });
        socket.on('error', () => undefined);
        socket.on('close', () => (closed += 1));
        return socket;
      });
      sockets.push(...batch);
      await until(() => Promise.resolve(batch.every((s) => !s.connecting || s.destroyed)), `connections ${chunk * 100 + 1}–${chunk * 100 + 100} settled`, 30_000);
    }
    // The service closes those past the cap at once, and only those.
    await until(() => Promise.resolve(closed >= 1000), 'the connections past the cap closed', 30_000);
    const outcomes = sockets.map((socket) => (socket.destroyed ? 'closed' : 'held'));
    try {
      expect(outcomes.filter((o) => o === 'held')).toHaveLength(100);
      // Another address on the loopback network: the probe gets its answer.
      const probe = await new Promise<number>((resolve, reject) => {
        httpGet(`${service.url}/healthz`, { localAddress: '127.0.0.2', agent: false }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        }).on('error', reject);
      });
      expect(probe).toBe(200);
    } finally {
      for (const socket of sockets) socket.destroy();
    }
  });
});
