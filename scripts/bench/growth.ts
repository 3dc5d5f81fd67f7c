/**
 * Growth (issue 21): a year of rollbacks over 10,000 apps in the store, and what the service then costs.
 * Fills SQLite and PostgreSQL through the service's own repositories (scripts/bench/history.ts), starts
 * the built service on each (its own process, RETENTION_DAYS=0 so its own job stays out of the timings,
 * METRICS_APP_LABEL=true) and measures, sequentially over loopback:
 *   - DB bytes per event, start to ready;
 *   - the overview at page 1 and page 200 of the app list, its live part (200, and 304 with If-None-Match);
 *   - GET /v1/events at page 1 and at page 200 (199 cursors followed first);
 *   - the CPU one open tab costs while nothing happens (the live part polled every second with its ETag,
 *     as public/ui.js does), against the idle service alone;
 *   - /metrics in series after webhooks from 1,000 distinct apps (METRICS_MAX_APPS=500 caps them);
 * then, with the service stopped, one retention run (RETENTION_DAYS=90) in this process: its time, its
 * longest transaction (on SQLite, the write lock's longest hold) and the bytes left per event.
 */
import { type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { systemClock } from '../../src/clock';
import { createLogger } from '../../src/logger';
import { RetentionWorker } from '../../src/retention/retention-worker';
import { openStore } from '../../src/store/database';
import { ADMIN_TOKEN, WEBHOOK_TOKEN } from '../../tests/support/harness';
import { serviceEnv } from '../../tests/support/service-process';
import { spawnBenchService } from './service';
import { LIVE_REFRESH_MS } from '../../src/ui/status-page-data';
import { fillHistory } from './history';

export const GROWTH_EVENTS = Number(process.env.BENCH_GROWTH_EVENTS ?? 1_000_000);
export const GROWTH_APPS = 10_000;
const RUNS = 20;
const IDLE_SECONDS = 30;

export interface Timing {
  p50Ms: number;
  maxMs: number;
}

export interface GrowthResult {
  dialect: 'sqlite' | 'postgres';
  events: number;
  apps: number;
  fillSeconds: number;
  bytesPerEvent: number;
  startToReadyMs: number;
  overviewPage1: Timing;
  overviewPage200: Timing;
  live200: Timing;
  live304: Timing;
  eventsPage1: Timing;
  eventsPage200: Timing;
  /**
   * SQLite: the service started on this file turned back into the layout from before retention (its
   * one-time VACUUM then runs at start): when /healthz first answered, the slowest /healthz while it
   * started, and when /readyz answered 200. Undefined on PostgreSQL.
   */
  oldFileStart?: { toHealthzMs: number; slowestHealthzMs: number; healthzPolls: number; toReadyMs: number; vacuumMb: number };
  /** GET /v1/apps, 100 apps a page: the first page and the last (10,000 apps: page 100). */
  appsPage1: Timing;
  appsPageLast: Timing;
  /** CPU of the service per second of wall time: idle, and idle with one open tab polling its live part. */
  idleCpuMsPerSecond: number;
  idleTabCpuMsPerSecond: number;
  /** The service's CPU for one 304 and one render of the live part, and so for one tab each second. */
  cpuPer304Ms: number;
  cpuPerRenderMs: number;
  tabCpuMsPerSecond: number;
  /** Answers of the tab's polls while nothing happened: how many were 304. */
  tab304: string;
  metricsSeries: number;
  metricsAppSeries: number;
  retention: { ms: number; longestBatchMs: number; longestWaitMs: number; batches: number; deleted: Partial<Record<string, number>>; bytesPerEventAfter: number; eventsAfter: number };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const percentile = (runs: number[], p: number) => [...runs].sort((a, b) => a - b)[Math.min(runs.length - 1, Math.floor(runs.length * p))]!;

/** utime + stime of a process, in milliseconds (Linux /proc; clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

async function timed(url: string, headers: Record<string, string>, expected = 200): Promise<{ ms: number; res: Response; text: string }> {
  const started = process.hrtime.bigint();
  const res = await fetch(url, { headers, redirect: 'manual' });
  const text = await res.text();
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (res.status !== expected) throw new Error(`${url}: ${res.status} (expected ${expected}) ${text.slice(0, 200)}`);
  return { ms, res, text };
}

async function timing(url: string, headers: Record<string, string>, expected = 200): Promise<Timing> {
  for (let i = 0; i < 3; i += 1) await timed(url, headers, expected);
  const runs: number[] = [];
  for (let i = 0; i < RUNS; i += 1) runs.push((await timed(url, headers, expected)).ms);
  return { p50Ms: percentile(runs, 0.5), maxMs: Math.max(...runs) };
}

async function storeBytes(url: string): Promise<number> {
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length);
    const size = (f: string) => {
      try {
        return statSync(f).size;
      } catch {
        return 0;
      }
    };
    return size(file) + size(`${file}-wal`);
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return Number((await client.query<{ n: string }>('select pg_database_size(current_database()) as n')).rows[0]!.n);
  } finally {
    await client.end();
  }
}

async function countStoredEvents(url: string): Promise<number> {
  const store = openStore(url);
  try {
    const row = await store.db.selectFrom('events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  } finally {
    await store.close();
  }
}

/** A fresh PostgreSQL database for one run, and how to drop it. */
export async function createGrowthDatabase(baseUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `rollback_growth_${process.pid}`;
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: baseUrl });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await admin(`drop database if exists ${name}`);
  await admin(`create database ${name}`);
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`drop database if exists ${name} with (force)`) };
}

export async function benchGrowth(options: { root: string; work: string; githubUrl: string; port: number; nodeOptions: string; databaseUrl: string; track?: (child: ChildProcess) => void }): Promise<GrowthResult> {
  const { databaseUrl } = options;
  const dialect = databaseUrl.startsWith('sqlite:') ? 'sqlite' : 'postgres';
  const say = (line: string) => console.log(`growth (${dialect}): ${line}`);
  say(`filling ${GROWTH_EVENTS} events over ${GROWTH_APPS} apps through the store`);
  const { seconds: fillSeconds } = await fillHistory(databaseUrl, GROWTH_EVENTS, GROWTH_APPS, {
    concurrency: dialect === 'postgres' ? 6 : 1,
    progress: (done) => say(`filled ${done} of ${GROWTH_EVENTS} events`),
  });
  const bytesPerEvent = (await storeBytes(databaseUrl)) / GROWTH_EVENTS;
  say(`filled in ${fillSeconds.toFixed(0)} s, ${bytesPerEvent.toFixed(0)} bytes per event`);
  if (dialect === 'postgres') {
    // A store that grew over a year has the statistics autovacuum keeps; one filled in twenty minutes
    // may be measured before autovacuum's next analyze, and planned as if its tables were empty.
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      await client.query('analyze');
    } finally {
      await client.end();
    }
  }

  const env = serviceEnv(options.githubUrl, databaseUrl, {
    ADMIN_TOKEN,
    PORT: String(options.port),
    NODE_ENV: 'production',
    NODE_OPTIONS: options.nodeOptions,
    LOG_LEVEL: 'warn',
    RETENTION_DAYS: '0',
    METRICS_APP_LABEL: 'true',
    DRY_RUN: 'true',
  });
  const base = `http://127.0.0.1:${options.port}`;
  const spawnedAt = process.hrtime.bigint();
  const child: ChildProcess = spawnBenchService({ root: options.root, cwd: options.work, env });
  options.track?.(child);
  try {
    let startToReadyMs = 0;
    for (const deadline = Date.now() + 60_000; ; await sleep(2)) {
      if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode}`);
      if (Date.now() > deadline) throw new Error('the service did not become ready within 60 s');
      if (await fetch(`${base}/readyz`).then((r) => r.ok, () => false)) {
        startToReadyMs = Number(process.hrtime.bigint() - spawnedAt) / 1e6;
        break;
      }
    }
    say(`ready in ${startToReadyMs.toFixed(0)} ms`);
    const login = await fetch(`${base}/ui/login`, { method: 'POST', body: new URLSearchParams({ name: 'bench', token: ADMIN_TOKEN }), redirect: 'manual' });
    const cookie = { Cookie: (login.headers.get('set-cookie') ?? '').split(';')[0]! };
    if (login.status !== 303) throw new Error(`sign-in failed: ${login.status}`);
    const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };

    const overviewPage1 = await timing(`${base}/ui/`, cookie);
    const overviewPage200 = await timing(`${base}/ui/?page=200`, cookie);
    const live200 = await timing(`${base}/ui/overview/live`, cookie);
    const tag = (await timed(`${base}/ui/overview/live`, cookie)).res.headers.get('etag') ?? '';
    const live304 = await timing(`${base}/ui/overview/live`, { ...cookie, 'If-None-Match': tag }, 304);
    say(`overview p50 ${overviewPage1.p50Ms.toFixed(1)} ms (max ${overviewPage1.maxMs.toFixed(1)}), page 200 p50 ${overviewPage200.p50Ms.toFixed(1)} ms, live 200 ${live200.p50Ms.toFixed(1)} ms, 304 ${live304.p50Ms.toFixed(2)} ms`);

    const eventsPage1 = await timing(`${base}/v1/events`, admin);
    let next = '/v1/events';
    for (let page = 1; page < 200; page += 1) next = ((await (await fetch(base + next, { headers: admin })).json()) as { next: string }).next;
    const eventsPage200 = await timing(base + next, admin);
    say(`/v1/events page 1 p50 ${eventsPage1.p50Ms.toFixed(1)} ms, page 200 p50 ${eventsPage200.p50Ms.toFixed(1)} ms`);

    const appsPage1 = await timing(`${base}/v1/apps`, admin);
    let appsNext = '/v1/apps';
    let appsLast = appsNext;
    while (appsNext) {
      appsLast = appsNext;
      appsNext = ((await (await fetch(base + appsNext, { headers: admin })).json()) as { next: string | null }).next ?? '';
    }
    const appsPageLast = await timing(base + appsLast, admin);
    say(`/v1/apps page 1 p50 ${appsPage1.p50Ms.toFixed(1)} ms, last page p50 ${appsPageLast.p50Ms.toFixed(1)} ms`);

    // What one open tab costs while nothing happens, as public/ui.js polls (once a second, with its ETag).
    // First the real thing for IDLE_SECONDS (how many polls were 304, and the CPU against the idle service;
    // the idle service's own background work makes that difference noisy), then each part on its own, back
    // to back, so the service's CPU per poll is measured to a few µs: a 304 every second and a render every
    // LIVE_REFRESH_MS.
    const pid = child.pid!;
    const idleFor = async () => {
      const before = cpuMs(pid);
      await sleep(IDLE_SECONDS * 1000);
      return (cpuMs(pid) - before) / IDLE_SECONDS;
    };
    await sleep(3000);
    const idleBefore = await idleFor();
    let etag = (await timed(`${base}/ui/overview/live`, cookie)).res.headers.get('etag') ?? '';
    const answers: number[] = [];
    let before = cpuMs(pid);
    const started = Date.now();
    for (let tick = 1; tick <= IDLE_SECONDS; tick += 1) {
      const res = await fetch(`${base}/ui/overview/live`, { headers: { ...cookie, 'If-None-Match': etag } });
      await res.text();
      answers.push(res.status);
      etag = res.headers.get('etag') ?? etag;
      await sleep(started + tick * 1000 - Date.now());
    }
    const idleTabCpuMsPerSecond = (cpuMs(pid) - before) / IDLE_SECONDS;
    const idleCpuMsPerSecond = (idleBefore + (await idleFor())) / 2;
    const tab304 = `${answers.filter((s) => s === 304).length} of ${answers.length}`;
    const cpuPer = async (count: number, headers: Record<string, string>, expected: number) => {
      before = cpuMs(pid);
      for (let i = 0; i < count; i += 1) await timed(`${base}/ui/overview/live`, headers, expected);
      return (cpuMs(pid) - before) / count;
    };
    /** As cpuPer for 304s, but a render when the minute turns (or PostgreSQL's snapshot moves) takes the new etag. */
    const cpuPerNotModified = async (count: number) => {
      before = cpuMs(pid);
      for (let i = 0; i < count; i += 1) {
        const res = await fetch(`${base}/ui/overview/live`, { headers: { ...cookie, 'If-None-Match': etag } });
        await res.text();
        if (res.status === 200) etag = res.headers.get('etag') ?? etag;
        else if (res.status !== 304) throw new Error(`/ui/overview/live: ${res.status} (expected 304 or 200)`);
      }
      return (cpuMs(pid) - before) / count;
    };
    etag = (await timed(`${base}/ui/overview/live`, cookie)).res.headers.get('etag') ?? '';
    const cpuPer304 = await cpuPerNotModified(1000);
    const cpuPerRender = await cpuPer(100, cookie, 200);
    const tabCpuMsPerSecond = cpuPer304 + cpuPerRender / (LIVE_REFRESH_MS / 1000);
    say(
      `idle: ${idleCpuMsPerSecond.toFixed(1)} ms CPU/s; with one open tab ${idleTabCpuMsPerSecond.toFixed(1)} ms CPU/s (${tab304} polls answered 304); ` +
        `one 304 costs ${cpuPer304.toFixed(2)} ms CPU, one render ${cpuPerRender.toFixed(1)} ms: one tab ${tabCpuMsPerSecond.toFixed(2)} ms CPU/s`,
    );

    // 1,000 apps send a Healthy report each: with the app label on, the cap holds their series.
    for (let a = 0; a < 1000; a += 1) {
      const res = await fetch(`${base}/v1/webhooks/argocd`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${WEBHOOK_TOKEN}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ app: `bench-app-${String(a).padStart(String(GROWTH_APPS - 1).length, '0')}`, status: 'Healthy', revision: `c${a.toString(16).padStart(39, '0')}` }),
      });
      await res.text();
    }
    const metrics = await (await fetch(`${base}/metrics`, { headers: admin })).text();
    const series = metrics.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    const metricsSeries = series.length;
    const metricsAppSeries = series.filter((l) => l.includes('app="')).length;
    say(`/metrics: ${metricsSeries} series, ${metricsAppSeries} with an app label`);

    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;

    // One retention run, as the service's job runs it (everything older than 90 days and finished).
    const store = openStore(databaseUrl);
    await store.migrate();
    const worker = new RetentionWorker({ store, clock: systemClock, logger: createLogger('silent'), days: 90 });
    const report = await worker.runOnce();
    await store.close();
    const eventsAfter = await countStoredEvents(databaseUrl);
    const bytesPerEventAfter = (await storeBytes(databaseUrl)) / Math.max(eventsAfter, 1);
    say(`retention: ${(report.ms / 1000).toFixed(1)} s, longest hold of the write lock ${report.longestBatchMs.toFixed(1)} ms (${report.longestBatchOf}; longest wait and fsync included ${report.longestWaitMs.toFixed(0)} ms) over ${report.batches} batches; ${eventsAfter} events left, ${bytesPerEventAfter.toFixed(0)} bytes per event`);
    const oldFileStart = dialect === 'sqlite' ? await startOnOldFile(options, databaseUrl, env, say) : undefined;

    return {
      dialect,
      events: GROWTH_EVENTS,
      apps: GROWTH_APPS,
      fillSeconds,
      bytesPerEvent,
      startToReadyMs,
      overviewPage1,
      overviewPage200,
      live200,
      live304,
      eventsPage1,
      eventsPage200,
      appsPage1,
      appsPageLast,
      oldFileStart,
      idleCpuMsPerSecond,
      idleTabCpuMsPerSecond,
      cpuPer304Ms: cpuPer304,
      cpuPerRenderMs: cpuPerRender,
      tabCpuMsPerSecond,
      tab304,
      metricsSeries,
      metricsAppSeries,
      retention: { ms: report.ms, longestBatchMs: report.longestBatchMs, longestWaitMs: report.longestWaitMs, batches: report.batches, deleted: report.deleted, bytesPerEventAfter, eventsAfter },
    };
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    if (dialect === 'sqlite') rmSync(join(options.work, 'growth.db'), { force: true });
  }
}

/**
 * The file turned back into the layout from before retention (auto_vacuum NONE, one VACUUM here, not
 * measured), then the service started on it: its one-time VACUUM runs off the HTTP thread, so /healthz
 * answers all along (polled every 100 ms) while /readyz waits for it.
 */
async function startOnOldFile(
  options: { root: string; work: string; track?: (child: ChildProcess) => void },
  databaseUrl: string,
  env: Record<string, string>,
  say: (line: string) => void,
): Promise<NonNullable<GrowthResult['oldFileStart']>> {
  const file = databaseUrl.replace(/^sqlite:/, '');
  const SQLite = (await import('better-sqlite3')).default;
  const old = new SQLite(file);
  old.pragma('auto_vacuum = NONE');
  old.exec('VACUUM');
  old.close();
  const vacuumMb = statSync(file).size / 1048576;
  const base = `http://127.0.0.1:${env.PORT}`;
  const spawnedAt = Date.now();
  const child = spawnBenchService({ root: options.root, cwd: options.work, env });
  options.track?.(child);
  try {
    let toHealthzMs: number | undefined;
    let slowestHealthzMs = 0;
    let healthzPolls = 0;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode}`);
      if (Date.now() - spawnedAt > 600_000) throw new Error('not ready within 10 minutes');
      const asked = Date.now();
      const health = await fetch(`${base}/healthz`).then((r) => r.status, () => 0);
      if (health === 200) {
        toHealthzMs ??= Date.now() - spawnedAt;
        slowestHealthzMs = Math.max(slowestHealthzMs, Date.now() - asked);
        healthzPolls += 1;
        if ((await fetch(`${base}/readyz`).then((r) => r.status, () => 0)) === 200) break;
      }
      await sleep(100);
    }
    const toReadyMs = Date.now() - spawnedAt;
    say(`a file from before retention (${vacuumMb.toFixed(0)} MB): /healthz answered after ${toHealthzMs} ms, slowest /healthz ${slowestHealthzMs} ms over ${healthzPolls} polls, ready after ${toReadyMs} ms (the one-time VACUUM)`);
    return { toHealthzMs: toHealthzMs ?? toReadyMs, slowestHealthzMs, healthzPolls, toReadyMs, vacuumMb };
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
}

