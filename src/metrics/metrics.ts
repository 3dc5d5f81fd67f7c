import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Clock } from '../clock';
import type { GitHubAnswer } from '../github/classify-answer';
import type { Store } from '../store/database';
import { countFailedNotifications } from '../store/notifications.repository';
import { countEventsByStatus, countOpenOutcomes, countOutcomes, countPendingNotifications, oldestUndeliveredAt } from '../store/queue-figures.repository';

/**
 * The service's Prometheus metrics (prom-client), one registry per process. Counters and histograms
 * are updated where things happen; the store figures are gauges read at scrape time with a few
 * aggregate queries. Labels stay low-cardinality: no app label unless METRICS_APP_LABEL=true, and then
 * at most `maxApps` apps get series of their own (the first seen since the process started); the others
 * are counted under app="_other" and rollback_metrics_apps_capped says so.
 */
export interface Metrics {
  readonly registry: Registry;
  /** Webhooks by outcome (accepted, duplicate, recorded, suppressed, no_target, …, or the error code). */
  countWebhook(outcome: string, app: string | undefined, seconds: number): void;
  /** One delivery attempt: delivered, retry, rate_limited, failed; and how long GitHub took. */
  countDelivery(result: 'delivered' | 'retry' | 'rate_limited' | 'failed' | 'dry_run', seconds: number | undefined, app: string): void;
  /** Every GitHub answer: keeps the token's rate-limit figures current. */
  observeGitHubAnswer(answer: GitHubAnswer): void;
  /** The wiring check (GET /v1/status): 1 when the check passes, 0 when it fails. */
  setGitHubCheck(repository: string, check: string, ok: boolean): void;
  /** One send of the outbox: sent, retry (a receiver down or busy), failed (refused for good). */
  countNotification(result: 'sent' | 'retry' | 'failed'): void;
  /** A worker's lease was taken over before it completed; its result was dropped. */
  countLeaseLost(work: 'delivery' | 'outcome' | 'notification'): void;
  /** The failed-authentication budget: an address used it up (exhausted), a request refused with 429 for it (blocked). */
  countAuthFailures(what: 'exhausted' | 'blocked'): void;
  /** A followed rollback reached `outcome` (each change counted once, by the replica that recorded it). */
  countOutcome(outcome: string): void;
  /** One retention run: rows deleted per table, how long it took, its longest transaction. */
  countRetention(deleted: Partial<Record<string, number>>, seconds: number, longestBatchSeconds: number): void;
}

/** The app label of the apps past METRICS_MAX_APPS. */
export const OTHER_APPS = '_other';

export function createMetrics(options: { store: Store; clock: Clock; appLabel: boolean; maxApps: number }): Metrics {
  const { store, clock, appLabel, maxApps } = options;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const withApp = (labels: string[]) => (appLabel ? [...labels, 'app'] : labels);
  // The apps with series of their own; the series of an app stay once made (a counter must not vanish).
  const labelled = new Set<string>();
  const capped = new Gauge({
    name: 'rollback_metrics_apps_capped',
    help: 'METRICS_APP_LABEL: 1 when more apps than METRICS_MAX_APPS were seen and the later ones are counted as app _other, else 0',
    registers: [registry],
  });
  capped.set(0);
  const appValue = (app: string): string => {
    if (app === '' || labelled.has(app)) return app;
    if (labelled.size < maxApps) {
      labelled.add(app);
      return app;
    }
    capped.set(1);
    return OTHER_APPS;
  };

  const webhooks = new Counter({
    name: 'rollback_webhooks_received_total',
    help: 'Webhooks received, by outcome (accepted, duplicate, recorded, not_recorded, suppressed, no_target, not_deployed, not_a_deploy, not_restorable, or the error code of a refusal)',
    labelNames: withApp(['outcome']),
    registers: [registry],
  });
  const webhookDuration = new Histogram({
    name: 'rollback_webhook_request_duration_seconds',
    help: 'Time from a webhook request to its answer',
    labelNames: ['outcome'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const attempts = new Counter({
    name: 'rollback_delivery_attempts_total',
    help: 'Dispatch attempts to GitHub, by result class (delivered, retry, rate_limited, failed, dry_run)',
    labelNames: withApp(['result']),
    registers: [registry],
  });
  const dispatchDuration = new Histogram({
    name: 'rollback_dispatch_duration_seconds',
    help: 'Time GitHub took to answer one repository_dispatch',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const rateRemaining = new Gauge({
    name: 'rollback_github_rate_limit_remaining',
    help: "Requests left in the token's GitHub rate-limit window (x-ratelimit-remaining of the last answer)",
    registers: [registry],
  });
  const rateReset = new Gauge({
    name: 'rollback_github_rate_limit_reset_timestamp_seconds',
    help: "When the token's GitHub rate-limit window resets (x-ratelimit-reset, Unix seconds)",
    registers: [registry],
  });
  const githubCheck = new Gauge({
    name: 'rollback_github_check_ok',
    help: 'The wiring check per repository and check (1 passes, 0 fails): see GET /v1/status',
    labelNames: ['repository', 'check'],
    registers: [registry],
  });

  const notifications = new Counter({
    name: 'rollback_notifications_total',
    help: 'Sends of the notification outbox, by result (sent, retry, failed: refused for good by the receiver)',
    labelNames: ['result'],
    registers: [registry],
  });
  const leasesLost = new Counter({
    name: 'rollback_leases_lost_total',
    help: 'Work whose lease was taken over before its holder completed it (the holder outlived DELIVERY_LEASE_MS); the late result was dropped',
    labelNames: ['work'],
    registers: [registry],
  });

  new Gauge({
    name: 'rollback_events',
    help: 'Rollback events in the store, by delivery status',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [status, n] of Object.entries(await countEventsByStatus(store.db))) this.set({ status }, n);
    },
  });
  new Gauge({
    name: 'rollback_outcomes',
    help: 'Delivered rollbacks in the store, by outcome (awaiting_run … verified, or a dead end)',
    labelNames: ['outcome'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [outcome, n] of Object.entries(await countOutcomes(store.db))) this.set({ outcome }, n);
    },
  });
  new Gauge({
    name: 'rollback_oldest_undelivered_event_age_seconds',
    help: 'Age of the oldest event not yet delivered (queued, delivering, retrying); 0 when there is none',
    registers: [registry],
    async collect() {
      const oldest = await oldestUndeliveredAt(store.db);
      this.set(oldest === undefined ? 0 : Math.max(0, (clock.now() - oldest) / 1000));
    },
  });
  new Gauge({
    name: 'rollback_outcomes_open',
    help: 'Delivered rollbacks still being followed (awaiting_run, restoring, restored)',
    registers: [registry],
    async collect() {
      this.set(await countOpenOutcomes(store.db));
    },
  });
  new Gauge({
    name: 'rollback_notifications_pending',
    help: 'Messages in the notification outbox not yet sent',
    registers: [registry],
    async collect() {
      this.set(await countPendingNotifications(store.db));
    },
  });
  new Gauge({
    name: 'rollback_notifications_failed',
    help: 'Messages in the outbox the receiver refused for good (a 4xx other than 408 and 429); listed on the status page',
    registers: [registry],
    async collect() {
      this.set(await countFailedNotifications(store.db));
    },
  });

  const authBudget = new Counter({
    name: 'rollback_auth_budget_total',
    help: 'The failed-authentication budget per client address: exhausted (an address went over 20 failures a minute), blocked (a request answered 429 for it)',
    labelNames: ['event'],
    registers: [registry],
  });
  const outcomesReached = new Counter({
    name: 'rollback_outcomes_reached_total',
    help: 'Outcomes reached by followed rollbacks, by outcome (a counter: unlike rollback_outcomes, retention does not lower it)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const retentionDeleted = new Counter({
    name: 'rollback_retention_deleted_total',
    help: 'Rows deleted by retention (RETENTION_DAYS), by table',
    labelNames: ['table'],
    registers: [registry],
  });
  const retentionRuns = new Counter({ name: 'rollback_retention_runs_total', help: 'Retention runs finished', registers: [registry] });
  const retentionLongest = new Gauge({
    name: 'rollback_retention_longest_batch_seconds',
    help: "The longest transaction of the last retention run (on SQLite, how long it held the write lock)",
    registers: [registry],
  });

  return {
    registry,
    countRetention(deleted, _seconds, longestBatchSeconds) {
      for (const [table, n] of Object.entries(deleted)) if (n) retentionDeleted.inc({ table }, n);
      retentionRuns.inc();
      retentionLongest.set(longestBatchSeconds);
    },
    countAuthFailures(what) {
      authBudget.inc({ event: what });
    },
    countOutcome(outcome) {
      outcomesReached.inc({ outcome });
    },
    countWebhook(outcome, app, seconds) {
      webhooks.inc(appLabel ? { outcome, app: appValue(app ?? '') } : { outcome });
      webhookDuration.observe({ outcome }, seconds);
    },
    countDelivery(result, seconds, app) {
      attempts.inc(appLabel ? { result, app: appValue(app) } : { result });
      if (seconds !== undefined) dispatchDuration.observe(seconds);
    },
    observeGitHubAnswer(answer) {
      if (answer.kind !== 'response') return;
      const remaining = answer.headers['x-ratelimit-remaining'];
      const reset = answer.headers['x-ratelimit-reset'];
      if (remaining !== undefined && /^\d+$/.test(remaining)) rateRemaining.set(Number(remaining));
      if (reset !== undefined && /^\d+$/.test(reset)) rateReset.set(Number(reset));
    },
    setGitHubCheck(repository, check, ok) {
      githubCheck.set({ repository, check }, ok ? 1 : 0);
    },
    countNotification(result) {
      notifications.inc({ result });
    },
    countLeaseLost(work) {
      leasesLost.inc({ work });
    },
  };
}
