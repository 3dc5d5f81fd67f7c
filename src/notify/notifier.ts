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
  /** First retry step; doubles with full jitter up to 5 minutes. */
  retryBaseMs?: number;
  /** Sends of one message at most (NOTIFY_MAX_ATTEMPTS); then it ends failed and its app's next ones go. */
  maxAttempts: number;
  pollIntervalMs?: number;
  random?: () => number;
  http?: AxiosInstance;
  owner?: string;
  metrics?: Metrics;
}

/** What the receiver said to one message: its status (and Location, for a redirect), or no answer. */
export type ReceiverAnswer = { kind: 'response'; status: number; location?: string } | { kind: 'transport'; code: string };

/** What becomes of a message after one send. */
export type SendDecision = { status: 'sent' } | { status: 'retry'; error: string } | { status: 'failed'; error: string };

/** Where a redirect points, without its path or query: a webhook's address is its credential. */
function originOf(location: string | undefined): string {
  if (location === undefined) return 'no Location';
  return URL.canParse(location) ? new URL(location).origin : 'an address that is not a URL';
}

/**
 * One send's outcome, a pure function of the answer and the attempt it was (1-based):
 * - 2xx: sent;
 * - 3xx: failed for good, naming where it redirects (redirects are not followed: the next try would get
 *   the same answer, and following one would send the message where NOTIFY_URL does not say);
 * - a 4xx but 408 and 429: failed for good (a revoked webhook, a body it rejects);
 * - anything else (5xx, 408, 429, no answer): tried again, until `maxAttempts` sends: then failed with
 *   the last error, so one message can never hold its app's later ones back for ever.
 */
export function decideSend(answer: ReceiverAnswer, attempt: number, maxAttempts: number): SendDecision {
  if (answer.kind === 'response') {
    const { status } = answer;
    if (status >= 200 && status < 300) return { status: 'sent' };
    if (status >= 300 && status < 400) {
      return { status: 'failed', error: `the receiver answered ${status}, redirecting to ${originOf(answer.location)}; redirects are not followed: set NOTIFY_URL to the address it redirects to` };
    }
    if (status >= 400 && status < 500 && status !== 408 && status !== 429) return { status: 'failed', error: `the receiver answered ${status}` };
  }
  const error = answer.kind === 'response' ? `the receiver answered ${answer.status}` : `no answer from the receiver (${answer.code})`;
  if (attempt >= maxAttempts) return { status: 'failed', error: `${error}; gave up after ${attempt} attempts (NOTIFY_MAX_ATTEMPTS)` };
  return { status: 'retry', error };
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
    const attempt = item.attempts + 1;
    const fields = { kind: item.message.kind, app: item.message.app, eventId: item.message.eventId ?? undefined, attempt };
    let answer: ReceiverAnswer;
    try {
      const response = await this.http.post(url, renderNotification(item.message, format), {
        headers: { 'Content-Type': 'application/json', 'User-Agent': USER_AGENT },
        transformRequest: [(data: unknown) => data],
        signal: this.stopSignal.signal,
      });
      const location: unknown = response.headers.location;
      answer = { kind: 'response', status: response.status, location: typeof location === 'string' ? location : undefined };
    } catch (caught) {
      // Only the error's code: its message or config could carry NOTIFY_URL, which is a secret.
      answer = { kind: 'transport', code: axios.isAxiosError(caught) ? (caught.code ?? 'network error') : 'error' };
    }
    const now = this.clock.now();
    const decision = decideSend(answer, attempt, this.options.maxAttempts);
    let result: SendResult;
    if (decision.status !== 'retry') result = decision;
    else {
      // Half the step fixed, half jittered: never a near-immediate retry against a receiver that is down.
      const step = computeBackoffMs(attempt, this.options.retryBaseMs ?? 1000, () => 1);
      result = { ...decision, retryAt: now + Math.ceil(step / 2 + (this.options.random ?? Math.random)() * (step / 2)) };
    }
    const error = result.status === 'sent' ? undefined : result.error;
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
