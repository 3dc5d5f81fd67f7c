import { until } from './until';
import type { Express } from 'express';
import { sleepReal, type Clock } from '../../src/clock';
import { loadConfig, type Config } from '../../src/config/config';
import type { DeliveryWorker } from '../../src/delivery/delivery-worker';
import type { EventStatus } from '../../src/domain/rollback-event';
import { startService, type ServiceOptions } from '../../src/service';
import type { Workers } from '../../src/workers/create-workers';
import { createLogger } from '../../src/logger';
import type { Store } from '../../src/store/database';
import { findEvent } from '../../src/store/events.repository';
import { createSqliteDatabase, type TestDatabase } from './dialects';
import { FakeGitHub, type FakeGitHubOptions } from './fake-github';

export const GITHUB_TOKEN = 'test-github-token-0123456789abcdef';
export const WEBHOOK_TOKEN = 'test-webhook-token-0123456789';
export const ADMIN_TOKEN = 'test-admin-token-0123456789';
export const FAILED = '9f1c2e7d4b8a6f3e0d5c1b9a7e2f4d6c8b0a3e51';
export const HEALTHY = '3b7e0c5a9d2f41e8b6c7a1f0e9d8c7b6a5f4e3d2';

/** A distinct 40-hex failed revision per n, so repeated requests are not duplicates of each other. */
export function failedRevision(n: number): string {
  return `f${n.toString(16).padStart(39, '0')}`;
}

/** The seed contract's body (shape A). */
export function seedBody(payload: Record<string, unknown> = {}): Record<string, unknown> {
  return { event_type: 'argo-degraded', client_payload: { app: 'podinfo-prod', failed_revision: FAILED, healthy_revision: HEALTHY, ...payload } };
}

/**
 * A clock that runs `factor` times faster than real time, so a 60 s GitHub wait takes 60 s / factor
 * of real time while every stored timestamp still reads in "GitHub seconds".
 */
export function createScaledClock(factor: number): Clock {
  const start = Date.now();
  return {
    now: () => start + (Date.now() - start) * factor,
    sleep: (ms, signal) => sleepReal(ms / factor, signal),
  };
}

/** A clock that only moves when told to (for windows measured in minutes). */
export function createManualClock(start = Date.UTC(2026, 10, 29, 10, 0, 0)): Clock & { advance(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    sleep: (ms, signal) => sleepReal(Math.min(ms, 20), signal),
    advance(ms) {
      now += ms;
    },
  };
}

/** Captures every pino line as text and as parsed JSON. */
export class LogCapture {
  readonly lines: string[] = [];
  write(line: string): void {
    this.lines.push(line);
  }
  get entries(): Array<Record<string, unknown>> {
    return this.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  }
  text(): string {
    return this.lines.join('');
  }
}

export interface Harness {
  app: Express;
  config: Config;
  store: Store;
  github: FakeGitHub;
  worker: DeliveryWorker | undefined;
  /** Delivery, outcome follower and notifier (undefined with worker: false). */
  workers: Workers | undefined;
  logs: LogCapture;
  clock: Clock;
  /** Resolves when the event reaches `status` (checked against the store), or rejects after `timeoutMs`. */
  waitForStatus(id: string, status: EventStatus, timeoutMs?: number): Promise<void>;
  /**
   * Resolves with the first log entry that `matches`. A state in the store is visible to readers at its
   * commit, and its writer logs once the commit is on disk (one WAL fsync later on SQLite): a test that
   * checks a log line after seeing the state waits for the line.
   */
  waitForLog(matches: (entry: Record<string, unknown>) => boolean, what: string): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  env?: Record<string, string>;
  clock?: Clock;
  /** Start the delivery worker (default true unless DRY_RUN). */
  worker?: boolean;
  random?: () => number;
  /** Repositories the fake GitHub knows (default acme/gitops). */
  repos?: string[];
  /** "owner/repo" → a bare git repository the fake GitHub's commits endpoint reads. */
  gitRepos?: Record<string, string>;
  /** The fake GitHub also acts as a GitHub App host (FakeGitHubOptions.app). */
  githubApp?: FakeGitHubOptions['app'];
  /** What GET …/actions/workflows lists (FakeGitHubOptions.workflows). */
  githubWorkflows?: FakeGitHubOptions['workflows'];
  /** The database to run on (default: a fresh SQLite file); dropped by close(). */
  database?: TestDatabase;
  /** Parts the service takes instead of its defaults (a store, GitHub access, the wiring check on). */
  service?: Pick<ServiceOptions, 'store' | 'github' | 'wiringCheck'>;
}

export async function createHarness(options: HarnessOptions = {}): Promise<Harness> {
  const github = await new FakeGitHub({ token: GITHUB_TOKEN, repos: options.repos ?? ['acme/gitops'], gitRepos: options.gitRepos, app: options.githubApp, workflows: options.githubWorkflows }).start();
  const database = options.database ?? createSqliteDatabase();
  const config = loadConfig({
    REPO_OWNER: 'acme',
    REPO_NAME: 'gitops',
    GH_PAT_WEBHOOK: GITHUB_TOKEN,
    GITHUB_API_URL: github.url,
    WEBHOOK_TOKEN,
    ADMIN_TOKEN,
    DATABASE_URL: database.url,
    GITHUB_MIN_INTERVAL_MS: '0',
    GITHUB_READ_INTERVAL_MS: '0',
    DELIVERY_RETRY_BASE_MS: '10',
    SHUTDOWN_TIMEOUT_MS: '1000',
    LOG_LEVEL: 'debug',
    ...options.env,
  });
  const logs = new LogCapture();
  const logger = createLogger(config.logLevel, logs);
  const clock = options.clock ?? createScaledClock(1);
  // The service as main.ts starts it, on a loopback port; tests drive its app through supertest.
  const service = await startService(
    { ...config, http: { ...config.http, host: '127.0.0.1', port: 0 } },
    logger,
    { clock, workers: options.worker !== false, wiringCheck: false, pollIntervalMs: 50, random: options.random, ...options.service },
  );
  const { app, store } = service;
  const workers = options.worker === false ? undefined : service.workers;
  const worker = workers?.delivery;

  return {
    app,
    config,
    store,
    github,
    worker,
    workers,
    logs,
    clock,
    async waitForStatus(id, status, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      let last: string | undefined;
      while (Date.now() < deadline) {
        last = (await findEvent(store.db, id))?.event.status;
        if (last === status) {
          // Seen at its commit; its writer hears (and logs) once the commit is on disk. A transaction asked
          // for now is answered after a WAL fsync that started after that one finished: a barrier.
          await store.transaction(() => Promise.resolve());
          return;
        }
        await sleepReal(5);
      }
      throw new Error(`event ${id} did not reach ${status} within ${timeoutMs} ms (last: ${last})`);
    },
    async waitForLog(matches, what) {
      await until(() => Promise.resolve(logs.entries.some(matches)), `log line: ${what}`);
      return logs.entries.find(matches)!;
    },
    async close() {
      await service.stop();
      github.reset();
      await github.stop();
      await database.drop();
    },
  };
}
