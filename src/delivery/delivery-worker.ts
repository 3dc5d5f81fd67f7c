import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Clock } from '../clock';
import { computeBackoffMs } from '../domain/backoff';
import type { RollbackEvent } from '../domain/rollback-event';
import { classifyGitHubAnswer, type DeliveryVerdict } from '../github/classify-answer';
import type { GitHubClient } from '../github/github-client';
import type { Metrics } from '../metrics/metrics';
import type { Store } from '../store/database';
import { acquireSlot, releaseSlot } from '../store/dispatch-slots.repository';
import { claimDue, markDryRun, nextDueAt, recordAttempt, releaseLeases } from '../store/events.repository';
import { enqueueNotification } from '../store/notifications.repository';
import { startOutcome } from '../store/outcomes.repository';

export interface DeliveryWorkerOptions {
  store: Store;
  github: GitHubClient;
  /** Names the token's dispatch slot (tokenKeyFor); workers sharing a token share one pace. */
  tokenKey: string;
  clock: Clock;
  logger: Logger;
  maxAttempts: number;
  retryBaseMs: number;
  leaseMs: number;
  minIntervalMs: number;
  /** Longest idle wait between two looks at the store when nothing is due and nobody calls notify(). */
  pollIntervalMs?: number;
  random?: () => number;
  /** Lease owner name; unique per process. */
  owner?: string;
  /** OUTCOME_POLL_MS: a delivered rollback is first looked at this long after delivery. */
  outcomePollMs: number;
  /** Write notifications (NOTIFY_URL is set). */
  notify: boolean;
  /** Called after a delivery was recorded (wake the outcome follower) and after a message was written. */
  onDelivered?: () => void;
  onNotification?: () => void;
  /** True when the app's route says dry_run: its events are recorded as dry_run and never sent. */
  isDryRun?: (app: string) => boolean;
  metrics?: Metrics;
}

export interface DeliveryWorker {
  readonly owner: string;
  start(): void;
  /** Wakes the loop early: a new event was stored. */
  notify(): void;
  /**
   * Stops claiming, lets the in-flight dispatch finish for up to `timeoutMs` (then aborts it), and
   * gives back every lease this worker holds.
   */
  stop(timeoutMs: number): Promise<void>;
}

const STORE_ERROR_BACKOFF_MS = 1000;
/** At least a second each: about a day and a half of GitHub's secondary-limit minute waits. */
export const MAX_RATE_LIMIT_WAITS = 2000;

/**
 * The delivery loop: take the token's dispatch slot (one dispatch at a time, GITHUB_MIN_INTERVAL_MS
 * apart, paused during rate limits, across every replica) and claim one due event → send → delivered |
 * retrying | failed, giving the slot back with the time the next dispatch may start; with nothing due,
 * sleep until the next event is due, a new one is stored, or the poll interval passes.
 */
export function createDeliveryWorker(options: DeliveryWorkerOptions): DeliveryWorker {
  const { store, github, clock, maxAttempts, retryBaseMs, leaseMs, minIntervalMs, tokenKey } = options;
  const pollIntervalMs = options.pollIntervalMs ?? 5000;
  const random = options.random ?? Math.random;
  const owner = options.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const logger = options.logger.child({ component: 'delivery', owner });

  let running = false;
  let loopDone: Promise<void> = Promise.resolve();
  let stopSignal = new AbortController();
  let wakeSignal = new AbortController();
  let inFlight: AbortController | undefined;
  let woken = false;

  async function idle(until: number): Promise<void> {
    if (woken) return;
    const signal = AbortSignal.any([stopSignal.signal, wakeSignal.signal]);
    await clock.sleep(Math.max(0, until - clock.now()), signal);
  }

  function nextState(event: RollbackEvent, verdict: DeliveryVerdict, now: number) {
    switch (verdict.kind) {
      case 'delivered':
        return { status: 'delivered' as const, transientFailures: event.transientFailures, error: null, nextAttemptAt: null };
      case 'permanent':
        return { status: 'failed' as const, transientFailures: event.transientFailures, error: verdict.reason, nextAttemptAt: null };
      case 'rate_limited': {
        // Rate-limit waits do not use up the retry budget, but they are bounded: a dispatch GitHub keeps
        // refusing for its rate limit, days on end, needs a person.
        const waits = event.attempts - event.transientFailures + 1;
        if (waits > MAX_RATE_LIMIT_WAITS) {
          return { status: 'failed' as const, transientFailures: event.transientFailures, error: `${verdict.reason} (gave up after ${MAX_RATE_LIMIT_WAITS} rate-limit waits)`, nextAttemptAt: null };
        }
        return { status: 'retrying' as const, transientFailures: event.transientFailures, error: verdict.reason, nextAttemptAt: verdict.retryAt };
      }
      case 'transient': {
        const failures = event.transientFailures + 1;
        if (failures >= maxAttempts) {
          return { status: 'failed' as const, transientFailures: failures, error: `${verdict.reason} (gave up after ${failures} failed attempts)`, nextAttemptAt: null };
        }
        return { status: 'retrying' as const, transientFailures: failures, error: verdict.reason, nextAttemptAt: now + computeBackoffMs(failures, retryBaseMs, random) };
      }
    }
  }

  /** Sends one event, then records the outcome and gives the token's slot back in one transaction. */
  async function deliver(event: RollbackEvent): Promise<void> {
    const log = logger.child({ eventId: event.id, app: event.app });
    if (options.isDryRun?.(event.app)) {
      // The last guard before GitHub: whatever queued this event, a dry-run app's rollback is not sent.
      await store.transaction(async (trx) => {
        await markDryRun(trx, event.id, owner, clock.now());
        await releaseSlot(trx, tokenKey, owner, 0);
      });
      log.warn("not sent: the app's route is dry_run; recorded as dry_run");
      options.metrics?.countDelivery('dry_run', undefined, event.app);
      return;
    }
    const attempt = event.attempts + 1;
    log.info({ attempt, repo: `${event.target.owner}/${event.target.repo}` }, 'delivering');
    const startedAt = clock.now();
    inFlight = new AbortController();
    const answer = await github.sendDispatch(event.target, event.dispatchBody, inFlight.signal);
    inFlight = undefined;
    const finishedAt = clock.now();
    const verdict = classifyGitHubAnswer(answer, finishedAt);
    const next = nextState(event, verdict, finishedAt);
    options.metrics?.observeGitHubAnswer(answer);
    const resultClass = verdict.kind === 'rate_limited' ? 'rate_limited' : next.status === 'retrying' ? 'retry' : next.status;
    options.metrics?.countDelivery(resultClass, (finishedAt - startedAt) / 1000, event.app);
    const statusCode = answer.kind === 'response' ? answer.status : null;
    // A rate limit belongs to the token: no replica dispatches with it before GitHub's time.
    const nextAllowedAt = verdict.kind === 'rate_limited' ? Math.max(verdict.retryAt, finishedAt + minIntervalMs) : finishedAt + minIntervalMs;
    // The attempt, the event's new state and the slot's release commit together: one write per dispatch.
    let notified = false;
    const kept = await store.transaction(async (trx) => {
      const recorded = await recordAttempt(trx, {
        eventId: event.id,
        owner,
        status: next.status,
        transientFailures: next.transientFailures,
        lastError: next.error,
        attempt: {
          attempt,
          startedAt,
          finishedAt,
          statusCode,
          outcome: next.status === 'retrying' ? 'retry' : next.status,
          error: next.error,
          nextAttemptAt: next.nextAttemptAt,
        },
      });
      await releaseSlot(trx, tokenKey, owner, nextAllowedAt);
      if (!recorded) return false;
      // The rollback's follow-up starts with its delivery, in the same commit; people hear of both ends.
      const message = { app: event.app, eventId: event.id, failedRevision: event.failedRevision, healthyRevision: event.healthyRevision, link: null, at: finishedAt };
      if (next.status === 'delivered' && (await startOutcome(trx, event.id, finishedAt, options.outcomePollMs))) {
        await enqueueNotification(trx, options.notify, { ...message, kind: 'dispatched', reason: `GitHub accepted the dispatch to ${event.target.owner}/${event.target.repo} (${event.eventType})` });
        notified = options.notify;
      } else if (next.status === 'failed') {
        await enqueueNotification(trx, options.notify, { ...message, kind: 'delivery_failed', reason: next.error ?? 'failed' });
        notified = options.notify;
      }
      return true;
    });
    if (kept && next.status === 'delivered') options.onDelivered?.();
    if (notified) options.onNotification?.();
    const fields = { attempt, statusCode, nextAttemptAt: next.nextAttemptAt === null ? undefined : new Date(next.nextAttemptAt).toISOString() };
    if (!kept) log.warn({ attempt }, 'lease was lost during delivery (another worker took the event over); result not recorded');
    else if (verdict.kind === 'delivered') log.info(fields, 'delivered');
    else if (verdict.kind === 'permanent') log.error({ ...fields, error: verdict.reason }, `failed: ${verdict.reason}; ${verdict.remedy}`);
    else if (next.status === 'failed') log.error({ ...fields, error: next.error }, 'failed: retries exhausted');
    else if (verdict.kind === 'rate_limited') log.warn({ ...fields, error: verdict.reason }, 'rate limited by GitHub; waiting as told');
    else log.warn({ ...fields, error: verdict.reason }, 'retrying');
  }

  async function loop(): Promise<void> {
    while (running) {
      woken = false;
      wakeSignal = new AbortController();
      try {
        // Taking the slot and claiming an event commit together (one write); with nothing to claim
        // (nothing due, or another replica was faster) the slot is given straight back, time unchanged.
        const now = clock.now();
        const taken = await store.transaction(async (trx) => {
          const slot = await acquireSlot(trx, tokenKey, owner, now, leaseMs);
          if (!slot.acquired) return slot;
          const [event] = await claimDue(trx, store.dialect, now, owner, leaseMs, 1);
          if (!event) await releaseSlot(trx, tokenKey, owner, 0);
          return { acquired: true as const, event };
        });
        if (!taken.acquired) {
          await clock.sleep(Math.min(Math.max(0, taken.retryAt - clock.now()), pollIntervalMs), stopSignal.signal);
          continue;
        }
        if (taken.event) {
          try {
            await deliver(taken.event);
          } catch (error) {
            // Recording failed (the store went away): the slot and the lease expire on their own.
            await releaseSlot(store.db, tokenKey, owner, 0).catch(() => undefined);
            throw error;
          }
          continue;
        }
        const due = await nextDueAt(store.db);
        await idle(Math.min(due ?? Number.POSITIVE_INFINITY, clock.now() + pollIntervalMs));
      } catch (error) {
        logger.error({ err: error }, 'delivery loop: store error; backing off');
        await clock.sleep(STORE_ERROR_BACKOFF_MS, stopSignal.signal);
      }
    }
  }

  return {
    owner,
    start() {
      if (running) return;
      running = true;
      stopSignal = new AbortController();
      logger.info('delivery worker started');
      loopDone = loop();
    },
    notify() {
      woken = true;
      wakeSignal.abort();
    },
    async stop(timeoutMs) {
      if (!running) return;
      running = false;
      stopSignal.abort();
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      if ((await Promise.race([loopDone, timedOut])) === 'timeout') {
        logger.warn({ timeoutMs }, 'in-flight dispatch did not finish in time; aborting it');
        inFlight?.abort();
        await loopDone;
      }
      clearTimeout(timer);
      try {
        const released = await releaseLeases(store.db, owner, clock.now());
        logger.info({ released }, 'delivery worker stopped');
      } catch (error) {
        // The store is gone: the leases expire on their own after DELIVERY_LEASE_MS.
        logger.warn({ err: error }, 'delivery worker stopped; could not release leases, they will expire');
      }
    },
  };
}
