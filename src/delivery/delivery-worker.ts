import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../clock';
import { computeBackoffMs } from '../domain/backoff';
import { withDispatchId } from '../domain/dispatch-body';
import { classifyGitHubAnswer, type DeliveryVerdict } from '../github/classify-answer';
import type { GitHubClient } from '../github/github-client';
import type { Metrics } from '../metrics/metrics';
import type { Store } from '../store/database';
import { beginAttempt, claimDeliveries, completeDelivery, completeDeliveryAsDryRun, nextDeliveryDueAt, releaseDeliveries, type ClaimedDelivery } from '../store/deliveries.repository';
import { acquireSlot, holdToken, releaseSlot } from '../store/dispatch-slots.repository';
import type { Lease } from '../store/leased-work';
import { enqueueNotification } from '../store/notifications.repository';
import { startFollow } from '../store/outcome-follows.repository';
import type { Database } from '../store/schema';
import { PollingLoop } from '../workers/polling-loop';

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

/** At least a second each: about a day and a half of GitHub's secondary-limit minute waits. */
export const MAX_RATE_LIMIT_WAITS = 2000;

interface NextState {
  state: 'delivered' | 'retrying' | 'failed';
  transientFailures: number;
  error: string | null;
  nextAttemptAt: number | null;
}

/**
 * The delivery loop: take the token's dispatch slot (one dispatch at a time, GITHUB_MIN_INTERVAL_MS
 * apart, paused during rate limits, across every replica) and claim one due delivery → send → delivered
 * | retrying | failed, giving the slot back with the time the next dispatch may start; with nothing due,
 * sleep until the next delivery is due, a new one is stored, or the poll interval passes.
 */
export class DeliveryWorker extends PollingLoop {
  readonly owner: string;

  constructor(private readonly options: DeliveryWorkerOptions) {
    const owner = options.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    super(options.clock, options.logger.child({ component: 'delivery', owner }), options.pollIntervalMs ?? 5000);
    this.owner = owner;
  }

  protected override async step(): Promise<'worked' | number | undefined> {
    const { store, tokenKey, leaseMs } = this.options;
    // Taking the slot and claiming a delivery commit together (one write); with nothing to claim (nothing
    // due, or another replica was faster) the slot is given straight back, its time unchanged.
    const now = this.clock.now();
    const taken = await store.transaction(async (trx) => {
      const slot = await acquireSlot(trx, store.dialect, tokenKey, this.owner, now, leaseMs);
      if (!slot.acquired) return slot;
      const [delivery] = await claimDeliveries(trx, store.dialect, now, this.owner, leaseMs, 1);
      if (!delivery) await releaseSlot(trx, store.dialect, slot.lease, 0);
      return { ...slot, delivery };
    });
    if (!taken.acquired) return taken.retryAt;
    if (!taken.delivery) return nextDeliveryDueAt(store.db, store.dialect, this.clock.now());
    await this.deliver(taken.delivery, taken.lease);
    return 'worked';
  }

  protected override async afterStop(): Promise<void> {
    try {
      const released = await releaseDeliveries(this.options.store.db, this.owner);
      this.logger.info({ released }, 'delivery worker stopped');
    } catch (error) {
      // The store is gone: the leases expire on their own after DELIVERY_LEASE_MS.
      this.logger.warn({ err: error }, 'delivery worker stopped; could not release leases, they will expire');
    }
  }

  protected override onLeaseLost(): void {
    this.options.metrics?.countLeaseLost('delivery');
  }

  private nextState(delivery: ClaimedDelivery, verdict: DeliveryVerdict, now: number): NextState {
    const { transientFailures } = delivery;
    switch (verdict.kind) {
      case 'delivered':
        return { state: 'delivered', transientFailures, error: null, nextAttemptAt: null };
      case 'permanent':
        // The remedy is kept with the error: the rollback page and GET /v1/events/{id} say what to do.
        return { state: 'failed', transientFailures, error: `${verdict.reason}; ${verdict.remedy}`, nextAttemptAt: null };
      case 'rate_limited': {
        // Rate-limit waits do not use up the retry budget, but they are bounded: a dispatch GitHub keeps
        // refusing for its rate limit, days on end, needs a person.
        const waits = delivery.attempts - transientFailures + 1;
        if (waits > MAX_RATE_LIMIT_WAITS) {
          return { state: 'failed', transientFailures, error: `${verdict.reason} (gave up after ${MAX_RATE_LIMIT_WAITS} rate-limit waits)`, nextAttemptAt: null };
        }
        return { state: 'retrying', transientFailures, error: verdict.reason, nextAttemptAt: verdict.retryAt };
      }
      case 'transient': {
        const failures = transientFailures + 1;
        if (failures >= this.options.maxAttempts) {
          return { state: 'failed', transientFailures: failures, error: `${verdict.reason} (gave up after ${failures} failed attempts)`, nextAttemptAt: null };
        }
        return { state: 'retrying', transientFailures: failures, error: verdict.reason, nextAttemptAt: now + computeBackoffMs(failures, this.options.retryBaseMs, this.options.random ?? Math.random) };
      }
    }
  }

  /**
   * Runs the transaction that records a delivery. When it fails (the store went away, or the lease was
   * lost and nothing was written), the token's slot is still given back, with the pace this dispatch set.
   */
  private async record<T>(slot: Lease<'dispatch_slots'>, nextAllowedAt: number, work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    try {
      return await this.options.store.transaction(work);
    } catch (error) {
      await releaseSlot(this.options.store.db, this.options.store.dialect, slot, nextAllowedAt).catch(() => undefined);
      throw error;
    }
  }

  /** Sends one delivery, then records the outcome and gives the token's slot back in one transaction. */
  private async deliver(delivery: ClaimedDelivery, slot: Lease<'dispatch_slots'>): Promise<void> {
    const { store, github, metrics } = this.options;
    const { event } = delivery;
    const log = this.logger.child({ eventId: event.id, app: event.app, deliveryId: delivery.id });
    if (this.options.isDryRun?.(event.app)) {
      // The last guard before GitHub: whatever queued this event, a dry-run app's rollback is not sent.
      await this.record(slot, 0, async (trx) => {
        await releaseSlot(trx, store.dialect, slot, 0);
        await completeDeliveryAsDryRun(trx, store.dialect, delivery, this.clock.now());
      });
      log.warn("not sent: the app's route is dry_run; recorded as dry_run");
      metrics?.countDelivery('dry_run', undefined, event.app);
      return;
    }
    const attempt = delivery.attempts + 1;
    log.info({ attempt, repo: `${event.target.owner}/${event.target.repo}` }, 'delivering');
    const startedAt = this.clock.now();
    // Written before sending: if the result cannot be written after, the history still says a request
    // may have reached GitHub. If this write fails, nothing is sent (the slot goes back unused).
    const begun = await this.record(slot, 0, (trx) => beginAttempt(trx, store.dialect, delivery, startedAt, this.options.leaseMs));
    delivery.lease = begun.lease;
    const answer = await github.sendDispatch(event.target, withDispatchId(event.dispatchBody, delivery.id), this.cancelSignal.signal);
    const finishedAt = this.clock.now();
    const verdict = classifyGitHubAnswer(answer, finishedAt);
    const next = this.nextState(delivery, verdict, finishedAt);
    metrics?.observeGitHubAnswer(answer);
    const resultClass = verdict.kind === 'rate_limited' ? 'rate_limited' : next.state === 'retrying' ? 'retry' : next.state;
    metrics?.countDelivery(resultClass, (finishedAt - startedAt) / 1000, event.app);
    const statusCode = answer.kind === 'response' ? answer.status : null;
    // A rate limit belongs to the token: no replica dispatches with it before GitHub's time.
    // GitHub asks for a second between content-creating requests: counted from this one's start (the
    // slot was held while it was in flight, so none overlapped), not from its answer.
    const paced = Math.max(startedAt + this.options.minIntervalMs, finishedAt);
    const nextAllowedAt = verdict.kind === 'rate_limited' ? Math.max(verdict.retryAt, paced) : paced;
    // The attempt, the delivery's new state, the follow-up it starts, its news and the slot's release
    // commit together: one write per dispatch. A lost lease rolls all of it back (LeaseLostError).
    let notified = false;
    let slotKept = true;
    await this.record(slot, nextAllowedAt, async (trx) => {
      // The slot first, then the delivery and its event: the order the claim takes them in.
      slotKept = await releaseSlot(trx, store.dialect, slot, nextAllowedAt);
      // A rate limit is the token's: its reads wait too.
      if (verdict.kind === 'rate_limited') await holdToken(trx, store.dialect, this.options.tokenKey, verdict.retryAt);
      await completeDelivery(trx, store.dialect, delivery, {
        state: next.state,
        transientFailures: next.transientFailures,
        lastError: next.error,
        attempt: { attempt: begun.attempt, startedAt, finishedAt, statusCode, outcome: next.state === 'retrying' ? 'retry' : next.state, error: next.error, nextAttemptAt: next.nextAttemptAt },
      });
      const message = { app: event.app, eventId: event.id, failedRevision: event.failedRevision, healthyRevision: event.healthyRevision, link: null, at: finishedAt };
      if (next.state === 'delivered') {
        const first = await startFollow(trx, store.dialect, { id: delivery.id, eventId: event.id, continuesFollowId: delivery.continuesFollowId }, finishedAt, this.options.outcomePollMs);
        // People hear of the first dispatch; a re-dispatch or a replay is in the history.
        if (first) {
          await enqueueNotification(trx, this.options.notify, { ...message, kind: 'dispatched', reason: `GitHub accepted the dispatch to ${event.target.owner}/${event.target.repo} (${event.eventType})` });
          notified = this.options.notify;
        }
      } else if (next.state === 'failed') {
        await enqueueNotification(trx, this.options.notify, { ...message, kind: 'delivery_failed', reason: next.error ?? 'failed' });
        notified = this.options.notify;
      }
    });
    if (next.state === 'delivered') this.options.onDelivered?.();
    if (notified) this.options.onNotification?.();
    if (!slotKept) log.warn({ attempt }, "the token's slot was taken over while this dispatch was in flight (it outlived DELIVERY_LEASE_MS); its pace is kept");
    const fields = { attempt, statusCode, nextAttemptAt: next.nextAttemptAt === null ? undefined : new Date(next.nextAttemptAt).toISOString() };
    if (verdict.kind === 'delivered') log.info(fields, 'delivered');
    else if (verdict.kind === 'permanent') log.error({ ...fields, error: verdict.reason }, `failed: ${verdict.reason}; ${verdict.remedy}`);
    else if (next.state === 'failed') log.error({ ...fields, error: next.error }, 'failed: retries exhausted');
    else if (verdict.kind === 'rate_limited') log.warn({ ...fields, error: verdict.reason }, 'rate limited by GitHub; waiting as told');
    else log.warn({ ...fields, error: verdict.reason }, 'retrying');
  }
}
