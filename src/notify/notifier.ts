import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import axios, { type AxiosInstance } from 'axios';
import type { Logger } from 'pino';
import type { Clock } from '../clock';
import { computeBackoffMs } from '../domain/backoff';
import { renderNotification } from '../domain/notification';
import type { Metrics } from '../metrics/metrics';
import type { Store } from '../store/database';
import { claimNotification, nextNotificationAt, recordNotificationSend, releaseNotificationLeases, type SendResult } from '../store/notifications.repository';
import { USER_AGENT } from '../version';
import { PollingLoop } from '../workers/polling-loop';

export interface NotifierOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
  /** NOTIFY_URL: a secret (an incoming webhook's URL is its credential); never logged. */
  url: string;
  format: 'slack' | 'json';
  timeoutMs: number;
  leaseMs: number;
  /** First retry step; doubles with full jitter up to 5 minutes. A message is retried until it is sent. */
  retryBaseMs?: number;
  pollIntervalMs?: number;
  random?: () => number;
  http?: AxiosInstance;
  owner?: string;
  metrics?: Metrics;
}

/**
 * A 4xx says the receiver will not take this message whatever we do (a revoked webhook, a body it
 * rejects), except 408 (timeout) and 429 (slow down), which are worth another try like a 5xx.
 */
export function isPermanentRefusal(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}

/**
 * Sends the outbox: one message at a time, each app's in the order they were written, each leased (so
 * replicas never send one twice at once) and retried with backoff while the receiver is down or busy. A
 * message the receiver refuses for good (a 4xx other than 408 and 429) is marked failed with its answer,
 * counted and shown on the status page, and the app's later messages go on. A receiver that is down
 * delays messages and never a rollback: nothing else waits on this loop.
 */
export class Notifier extends PollingLoop {
  readonly owner: string;
  private readonly http: AxiosInstance;

  constructor(private readonly options: NotifierOptions) {
    super(options.clock, options.logger.child({ component: 'notify' }), options.pollIntervalMs ?? 5000);
    this.owner = options.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}:notify`;
    this.http = options.http ?? axios.create({ timeout: options.timeoutMs, maxRedirects: 0, validateStatus: () => true });
  }

  protected override async step(): Promise<'worked' | number | undefined> {
    const { store, leaseMs, url, format, metrics } = this.options;
    const item = await claimNotification(store.db, store.dialect, this.clock.now(), this.owner, leaseMs);
    if (!item) return nextNotificationAt(store.db, store.dialect, this.clock.now());
    const fields = { kind: item.message.kind, app: item.message.app, eventId: item.message.eventId ?? undefined, attempt: item.attempts + 1 };
    let error: string | undefined;
    let permanent = false;
    try {
      const response = await this.http.post(url, renderNotification(item.message, format), {
        headers: { 'Content-Type': 'application/json', 'User-Agent': USER_AGENT },
        transformRequest: [(data: unknown) => data],
        signal: this.stopSignal.signal,
      });
      if (response.status < 200 || response.status >= 300) {
        error = `the receiver answered ${response.status}`;
        permanent = isPermanentRefusal(response.status);
      }
    } catch (caught) {
      // Only the error's code: its message or config could carry NOTIFY_URL, which is a secret.
      error = `no answer from the receiver (${axios.isAxiosError(caught) ? (caught.code ?? 'network error') : 'error'})`;
    }
    const now = this.clock.now();
    let result: SendResult;
    if (error === undefined) result = { status: 'sent' };
    else if (permanent) result = { status: 'failed', error };
    else {
      // Half the step fixed, half jittered: never a near-immediate retry against a receiver that is down.
      const step = computeBackoffMs(item.attempts + 1, this.options.retryBaseMs ?? 1000, () => 1);
      result = { status: 'retry', error, retryAt: now + Math.ceil(step / 2 + (this.options.random ?? Math.random)() * (step / 2)) };
    }
    await recordNotificationSend(store.db, item, now, result);
    metrics?.countNotification(result.status);
    if (result.status === 'sent') this.logger.info(fields, 'notification sent');
    else if (result.status === 'failed') {
      this.logger.error({ ...fields, error }, `notification refused for good: ${error}; marked failed, the app's later messages go on (check NOTIFY_URL and NOTIFY_FORMAT)`);
    } else {
      this.logger.warn({ ...fields, error, retryAt: new Date(result.retryAt).toISOString() }, `notification not sent: ${error}; trying again (check NOTIFY_URL)`);
    }
    return 'worked';
  }

  protected override onLeaseLost(): void {
    this.options.metrics?.countLeaseLost('notification');
  }

  protected override async afterStop(): Promise<void> {
    await releaseNotificationLeases(this.options.store.db, this.owner).catch((error: unknown) => this.logger.warn({ err: error }, 'could not release notification leases; they expire'));
  }
}
