import type { Logger } from 'pino';
import type { Clock } from '../clock';

const STORE_ERROR_BACKOFF_MS = 1000;

/**
 * The loop the outcome follower and the notifier share: do one step; when it did work, step again;
 * otherwise sleep until the time it names (capped by the poll interval) or until notify() wakes it.
 * stop() ends the loop after the current step; a store error backs off a second and goes on.
 */
export abstract class PollingLoop {
  protected running = false;
  protected stopSignal = new AbortController();
  private wakeSignal = new AbortController();
  private woken = false;
  private done: Promise<void> = Promise.resolve();

  protected constructor(
    protected readonly clock: Clock,
    protected readonly logger: Logger,
    private readonly pollIntervalMs: number,
  ) {}

  /** One unit of work: 'worked' to go again at once, or when to look next (undefined: the poll interval). */
  protected abstract step(): Promise<'worked' | number | undefined>;

  /** After the loop ended on stop(): give leases back. */
  protected abstract afterStop(): Promise<void>;

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopSignal = new AbortController();
    this.done = this.loop();
  }

  /** Wakes the loop early: there may be work. */
  notify(): void {
    this.woken = true;
    this.wakeSignal.abort();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.stopSignal.abort();
    await this.done;
    await this.afterStop();
  }

  private async loop(): Promise<void> {
    while (this.running) {
      this.woken = false;
      this.wakeSignal = new AbortController();
      try {
        const next = await this.step();
        if (next === 'worked') continue;
        if (this.woken) continue;
        const until = Math.min(next ?? Number.POSITIVE_INFINITY, this.clock.now() + this.pollIntervalMs);
        await this.clock.sleep(Math.max(0, until - this.clock.now()), AbortSignal.any([this.stopSignal.signal, this.wakeSignal.signal]));
      } catch (error) {
        if (!this.running) break;
        this.logger.error({ err: error }, 'store error; backing off');
        await this.clock.sleep(STORE_ERROR_BACKOFF_MS, this.stopSignal.signal);
      }
    }
  }
}
