import type { Logger } from 'pino';
import type { Clock } from '../clock';
import { routeFor, type Config } from '../config/config';
import { DeliveryWorker } from '../delivery/delivery-worker';
import type { GitHubAccess } from '../github/github-client';
import type { Metrics } from '../metrics/metrics';
import { Notifier } from '../notify/notifier';
import { OutcomeWorker } from '../outcomes/outcome-worker';
import { RetentionWorker } from '../retention/retention-worker';
import type { Store } from '../store/database';

/** The background parts of one process, wired to wake each other. */
export interface Workers {
  readonly delivery: DeliveryWorker | undefined;
  readonly outcomes: OutcomeWorker | undefined;
  readonly notifier: Notifier | undefined;
  /** Deletes what is finished and older than RETENTION_DAYS; undefined when RETENTION_DAYS=0. */
  readonly retention: RetentionWorker | undefined;
  start(): void;
  /** Stop all: the in-flight dispatch may finish for up to `timeoutMs`; every lease is given back. */
  stop(timeoutMs: number): Promise<void>;
  /** A rollback event was stored (deliver it), a health report was recorded (it may verify one), a message was written. */
  onEventStored(): void;
  onReportRecorded(): void;
  onNotification(): void;
}

/** What the workers run on: every edge injected (the store, GitHub, the clock, the logger). */
export interface WorkerParts {
  store: Store;
  clock: Clock;
  logger: Logger;
  /** The process's GitHub client and token pace; undefined in a dry run without a token. */
  github: GitHubAccess | undefined;
  /** The process's metrics (shared with the HTTP app). */
  metrics?: Metrics;
  /** Test knobs: a faster idle poll, a seeded random. */
  pollIntervalMs?: number;
  random?: () => number;
}

/**
 * Delivery and outcome following need GitHub, so they do not run in DRY_RUN; the notifier runs
 * whenever NOTIFY_URL is set (a dry run's loop-guard refusals are news too).
 */
export function createWorkers(config: Config, parts: WorkerParts): Workers {
  const { store, clock, logger, github, metrics, pollIntervalMs, random } = parts;
  const notify = config.notify.url !== undefined;
  const notifier = config.notify.url
    ? new Notifier({ store, clock, logger, url: config.notify.url, format: config.notify.format, maxAttempts: config.notify.maxAttempts, timeoutMs: config.github.timeoutMs, leaseMs: config.delivery.leaseMs, pollIntervalMs, random, metrics })
    : undefined;
  let delivery: DeliveryWorker | undefined;
  let outcomes: OutcomeWorker | undefined;
  if (!config.dryRun && github) {
    outcomes = new OutcomeWorker({
      store,
      github: github.client,
      tokenKey: github.tokenKey,
      clock,
      logger,
      limits: config.outcomes,
      leaseMs: config.delivery.leaseMs,
      readIntervalMs: config.github.readIntervalMs,
      jobLog: { apiUrl: config.github.apiUrl, timeoutMs: config.github.logTimeoutMs },
      notify,
      onNotification: () => notifier?.notify(),
      onRedispatch: () => delivery?.notify(),
      pollIntervalMs,
      metrics,
    });
    delivery = new DeliveryWorker({
      store,
      clock,
      logger,
      github: github.client,
      tokenKey: github.tokenKey,
      maxAttempts: config.delivery.maxAttempts,
      retryBaseMs: config.delivery.retryBaseMs,
      leaseMs: config.delivery.leaseMs,
      minIntervalMs: config.github.minIntervalMs,
      outcomePollMs: config.outcomes.pollMs,
      notify,
      onDelivered: () => outcomes?.notify(),
      isDryRun: (app) => routeFor(config, app).dryRun,
      metrics,
      onNotification: () => notifier?.notify(),
      pollIntervalMs,
      random,
    });
  }
  // Every replica runs it: deleting what another replica already deleted deletes nothing.
  const retention = config.retention.days > 0 ? new RetentionWorker({ store, clock, logger, metrics, days: config.retention.days }) : undefined;
  return {
    delivery,
    outcomes,
    notifier,
    retention,
    start() {
      delivery?.start();
      outcomes?.start();
      notifier?.start();
      retention?.start();
    },
    async stop(timeoutMs) {
      // Only a dispatch is worth waiting for; a look, a message or a retention batch is taken up again by the next start.
      await Promise.all([delivery?.stop(timeoutMs), outcomes?.stop(), notifier?.stop(), retention?.stop(timeoutMs)]);
    },
    onEventStored: () => delivery?.notify(),
    onReportRecorded: () => outcomes?.notify(),
    onNotification: () => notifier?.notify(),
  };
}
