/**
 * npm run bench: throughput and latency of the accept path (POST /v1/webhooks/argocd → durable insert →
 * 202) with autocannon, then how fast the worker drains the queue into a local fake GitHub.
 * Env: BENCH_SECONDS (10), BENCH_CONNECTIONS (50), LOG_LEVEL (warn).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { loadConfig } from '../src/config/config';
import { createLogger } from '../src/logger';
import { startService } from '../src/service';
import { FakeGitHub } from '../tests/support/fake-github';

const TOKEN = 'bench-github-token-not-a-secret';
const WEBHOOK_TOKEN = 'bench-webhook-token-0123456789';

async function main(): Promise<void> {
  const seconds = Number(process.env.BENCH_SECONDS ?? 10);
  const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
  const github = await new FakeGitHub({ token: TOKEN, repos: ['acme/gitops'] }).start();
  const dir = mkdtempSync(join(tmpdir(), 'rollback-bench-'));
  const config = loadConfig({
    REPO_OWNER: 'acme',
    REPO_NAME: 'gitops',
    GH_PAT_WEBHOOK: TOKEN,
    GITHUB_API_URL: github.url,
    WEBHOOK_TOKEN,
    HOST: '127.0.0.1',
    PORT: '0',
    DATABASE_URL: `sqlite:${join(dir, 'rollback.db')}`,
    GITHUB_MIN_INTERVAL_MS: '0',
    INGRESS_RATE_LIMIT_PER_MINUTE: '0',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  });
  const service = await startService(config, createLogger(config.logLevel));

  let n = 0;
  const result = await autocannon({
    url: `${service.url}/v1/webhooks/argocd`,
    method: 'POST',
    connections,
    duration: seconds,
    headers: { authorization: `Bearer ${WEBHOOK_TOKEN}`, 'content-type': 'application/json' },
    requests: [
      {
        setupRequest: (req) => {
          n += 1;
          const failed = n.toString(16).padStart(40, '0');
          return {
            ...req,
            body: JSON.stringify({
              event_type: 'argo-degraded',
              // One app per request: the loop guard (3 rollbacks per app per hour) is not what is measured here.
              client_payload: { app: `app-${n}`, failed_revision: failed, healthy_revision: '3b7e0c5a9d2f41e8b6c7a1f0e9d8c7b6a5f4e3d2' },
            }),
          };
        },
      },
    ],
  });
  const rss = process.memoryUsage().rss;
  const accepted = result['2xx'];
  console.log(`accept path, ${connections} connections, ${seconds} s, SQLite WAL synchronous=FULL, one process (server, worker and load generator share 2 cores):`);
  console.log(`  requests: ${result.requests.total} (${accepted} answered 2xx, ${result.non2xx} non-2xx, ${result.errors} errors)`);
  console.log(`  throughput: ${result.requests.average.toFixed(0)} req/s average`);
  console.log(`  latency ms: p50 ${result.latency.p50}, p90 ${result.latency.p90}, p99 ${result.latency.p99}, max ${result.latency.max}`);
  console.log(`  rss after load: ${(rss / 1024 / 1024).toFixed(0)} MiB`);

  // Requests in flight when the load stopped are still being stored, so the drain ends when the store
  // holds no undelivered event, not when a count taken now is reached.
  const drainStart = Date.now();
  const before = github.accepted().length;
  const count = async (onlyUndelivered: boolean) => {
    let query = service.store.db.selectFrom('events').select((eb) => eb.fn.countAll<number>().as('n'));
    if (onlyUndelivered) query = query.where('status', '!=', 'delivered');
    return Number((await query.executeTakeFirstOrThrow()).n);
  };
  const undelivered = () => count(true);
  while ((await undelivered()) > 0 && Date.now() - drainStart < 600_000) await new Promise((r) => setTimeout(r, 50));
  const drainSeconds = (Date.now() - drainStart) / 1000;
  const stored = await count(false);
  const ids = github.accepted().map((r) => String(r.body?.client_payload?.event_id));
  const distinct = new Set(ids).size;
  console.log(`delivery: ${stored} events stored, ${ids.length} dispatches accepted by the fake GitHub (${distinct} distinct event ids), ${await undelivered()} undelivered`);
  console.log(
    `  ${ids.length - before} sent after the load stopped, in ${drainSeconds.toFixed(1)} s: ${((ids.length - before) / drainSeconds).toFixed(0)} dispatches/s, one at a time, GITHUB_MIN_INTERVAL_MS=0`,
  );
  await service.stop();
  await github.stop();
  rmSync(dir, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
