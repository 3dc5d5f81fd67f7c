/** Time as an injectable edge: the worker and the ingress read `now()` and wait with `sleep()`. */
export interface Clock {
  now(): number;
  /** Resolves after `ms`, or early (without throwing) when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export function sleepReal(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal?.addEventListener('abort', done, { once: true });
  });
}

export const systemClock: Clock = { now: () => Date.now(), sleep: sleepReal };

/**
 * A replica's clock set to its database's: `now()` is `base.now()` plus the offset to the database's
 * clock, measured at start and every `resyncMs` (half the query's round trip taken as the database's
 * moment). Due times, the token's pace, leases, loop-guard windows and every time the service writes
 * are then on one clock for every replica, whatever their own clocks say: a replica 90 s ahead no longer
 * dispatches inside a wait GitHub asked another replica for.
 */
export interface DatabaseClock extends Clock {
  /** The last measured offset, database minus this replica, in ms. */
  readonly offsetMs: number;
  /** Measures the offset again. */
  sync(): Promise<number>;
  stop(): void;
}

export async function createDatabaseClock(base: Clock, readDatabaseNow: () => Promise<number>, options: { resyncMs?: number; onOffset?: (offsetMs: number) => void } = {}): Promise<DatabaseClock> {
  let offsetMs = 0;
  const sync = async () => {
    const before = base.now();
    const databaseNow = await readDatabaseNow();
    const after = base.now();
    offsetMs = databaseNow - (before + after) / 2;
    options.onOffset?.(offsetMs);
    return offsetMs;
  };
  await sync();
  const timer = setInterval(() => void sync().catch(() => undefined), options.resyncMs ?? 60_000);
  timer.unref();
  return {
    now: () => Math.round(base.now() + offsetMs),
    sleep: (ms, signal) => base.sleep(ms, signal),
    get offsetMs() {
      return offsetMs;
    },
    sync,
    stop: () => clearInterval(timer),
  };
}
