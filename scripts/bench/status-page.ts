/**
 * The status page's overview with 1,000 apps and 100,000 events (issue 12's target: rendered in under
 * 200 ms). Fills a SQLite store through the service's own repositories, starts the built service on it
 * (its own process), signs in and times each page, sequentially, from this process over loopback.
 */
import { type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { v7 as uuidv7 } from 'uuid';
import { openStore } from '../../src/store/database';
import { insertEvent } from '../../src/store/events.repository';
import { insertReport } from '../../src/store/reports.repository';
import { ADMIN_TOKEN } from '../../tests/support/harness';
import { serviceEnv } from '../../tests/support/service-process';
import { spawnBenchService } from './service';

export const UI_APPS = 1000;
export const UI_EVENTS_PER_APP = 100;
const RUNS = 20;

export interface PageTiming {
  page: string;
  p50Ms: number;
  maxMs: number;
  bytes: number;
}

export interface StatusPageResult {
  apps: number;
  events: number;
  fillSeconds: number;
  pages: PageTiming[];
}

const STATUSES = ['delivered', 'delivered', 'delivered', 'failed', 'suppressed', 'dry_run'] as const;
const rev = (n: number) => n.toString(16).padStart(40, 'a');

async function fill(databaseFile: string): Promise<{ someEventId: string }> {
  const store = openStore(`sqlite:${databaseFile}`);
  await store.migrate();
  const start = Date.now() - UI_EVENTS_PER_APP * 60_000;
  let someEventId = '';
  for (let a = 0; a < UI_APPS; a += 1) {
    const app = `team-${String(a % 20).padStart(2, '0')}/app-${String(a).padStart(4, '0')}`;
    await store.transaction(async (trx) => {
      await insertReport(trx, { id: uuidv7(), app, revision: rev(a * 1000), status: 'Healthy', source: 'health_report', eventId: null }, start - 1000);
      for (let e = 0; e < UI_EVENTS_PER_APP; e += 1) {
        const id = uuidv7();
        const at = start + e * 60_000;
        const status = STATUSES[e % STATUSES.length]!;
        await insertReport(trx, { id: uuidv7(), app, revision: rev(a * 1000 + e + 1), status: 'Degraded', source: 'health_report', eventId: id }, at);
        await insertEvent(
          trx,
          {
            id,
            app,
            failedRevision: rev(a * 1000 + e + 1),
            healthyRevision: rev(a * 1000),
            target: { owner: 'acme', repo: 'gitops' },
            eventType: 'argo-degraded',
            dispatchBody: JSON.stringify({ event_type: 'argo-degraded', client_payload: { app, failed_revision: rev(a * 1000 + e + 1), healthy_revision: rev(a * 1000), event_id: id } }),
            status: status === 'delivered' || status === 'failed' ? 'queued' : status,
            requestId: null,
            targetReason: 'from ledger',
            suppressionReason: status === 'suppressed' ? 'loop guard: 3 rollbacks of this app in 60 min' : null,
          },
          at,
        );
        if (status === 'delivered' || status === 'failed') {
          await trx
            .updateTable('events')
            .set(status === 'delivered' ? { status, delivered_at: at + 500, outcome: 'verified', attempts: 1 } : { status, last_error: 'GitHub said 404 Not Found', attempts: 1 })
            .where('id', '=', id)
            .execute();
        }
        someEventId = id;
      }
    });
  }
  await store.close();
  return { someEventId };
}

async function timed(url: string, cookie: string): Promise<{ ms: number; bytes: number }> {
  const started = process.hrtime.bigint();
  const res = await fetch(url, { headers: { Cookie: cookie }, redirect: 'manual' });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${text.slice(0, 200)}`);
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, bytes: Buffer.byteLength(text) };
}

export async function benchStatusPage(options: { root: string; work: string; githubUrl: string; port: number; nodeOptions: string; track?: (child: ChildProcess) => void }): Promise<StatusPageResult> {
  const databaseFile = join(options.work, 'status-page.db');
  const filledAt = Date.now();
  const { someEventId } = await fill(databaseFile);
  const fillSeconds = (Date.now() - filledAt) / 1000;
  const child: ChildProcess = spawnBenchService({
    root: options.root,
    cwd: options.work,
    env: serviceEnv(options.githubUrl, `sqlite:${databaseFile}`, { ADMIN_TOKEN, PORT: String(options.port), NODE_ENV: 'production', NODE_OPTIONS: options.nodeOptions, LOG_LEVEL: 'warn' }),
  });
  options.track?.(child);
  const base = `http://127.0.0.1:${options.port}`;
  try {
    for (const deadline = Date.now() + 20_000; ; await new Promise((r) => setTimeout(r, 20))) {
      if (Date.now() > deadline) throw new Error('the service did not become ready within 20 s');
      if (await fetch(`${base}/readyz`).then((r) => r.ok, () => false)) break;
    }
    const login = await fetch(`${base}/ui/login`, { method: 'POST', body: new URLSearchParams({ name: 'bench', token: ADMIN_TOKEN }), redirect: 'manual' });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    if (login.status !== 303 || !cookie) throw new Error(`sign-in failed: ${login.status}`);
    const pages: Array<[string, string]> = [
      ['overview (page 1 of 20)', '/ui/'],
      ['overview live part', '/ui/overview/live'],
      ['overview page 20', '/ui/?page=20'],
      ['app page', `/ui/apps/${encodeURIComponent('team-00/app-0000')}`],
      ['rollback page', `/ui/events/${someEventId}`],
    ];
    const timings: PageTiming[] = [];
    for (const [page, path] of pages) {
      for (let i = 0; i < 3; i += 1) await timed(base + path, cookie);
      const runs: number[] = [];
      let bytes = 0;
      for (let i = 0; i < RUNS; i += 1) {
        const t = await timed(base + path, cookie);
        runs.push(t.ms);
        bytes = t.bytes;
      }
      runs.sort((a, b) => a - b);
      timings.push({ page, p50Ms: runs[Math.floor(RUNS / 2)]!, maxMs: runs[RUNS - 1]!, bytes });
      console.log(`status page: ${page}: p50 ${timings.at(-1)!.p50Ms.toFixed(1)} ms, max ${timings.at(-1)!.maxMs.toFixed(1)} ms, ${bytes} bytes`);
    }
    return { apps: UI_APPS, events: UI_APPS * UI_EVENTS_PER_APP, fillSeconds, pages: timings };
  } finally {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  }
}
