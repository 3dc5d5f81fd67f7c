import { execFileSync } from 'node:child_process';
import { getEventListeners } from 'node:events';
import { join } from 'node:path';
import type { Clock } from '../../src/clock';
import { createLogger } from '../../src/logger';
import { PollingLoop } from '../../src/workers/polling-loop';
import { LogCapture } from '../support/harness';

/** A loop whose every turn finds nothing due and waits (a wait that ends at once), `turns` times. */
class IdleLoop extends PollingLoop {
  turns = 0;
  private finished!: () => void;
  readonly reached = new Promise<void>((resolve) => (this.finished = resolve));

  constructor(
    clock: Clock,
    private readonly target: number,
  ) {
    super(clock, createLogger('warn', new LogCapture()), 1000);
  }

  protected override step(): Promise<number> {
    this.turns += 1;
    if (this.turns === this.target) this.finished();
    return Promise.resolve(this.clock.now() + 10);
  }

  protected override afterStop(): Promise<void> {
    return Promise.resolve();
  }

  /** Listeners on the stop signal, which lives as long as the worker. */
  stopListeners(): number {
    return getEventListeners(this.stopSignal.signal, 'abort').length;
  }
}

describe('the workers’ polling loop over a long run', () => {
  it('when it turns 100,000 times without work, then its heap stays flat and nothing piles up on its stop signal', () => {
    // In its own process with --expose-gc, so a full GC before and after measures what the turns kept.
    const script = join(__dirname, '..', 'support', 'polling-loop-heap.ts');
    const output = execFileSync(process.execPath, ['--expose-gc', '--require', 'tsx/cjs', script, '100000'], { cwd: join(__dirname, '..', '..'), encoding: 'utf8' });
    const result = JSON.parse(output) as { turns: number; heapBefore: number; heapAfter: number; dependants: number };
    expect(result.turns).toBeGreaterThanOrEqual(100_000);
    expect(result.dependants).toBe(0);
    // Flat: the per-turn signal of AbortSignal.any kept about 40 bytes a turn (+4 MiB here, +40 MiB at 1,000,000).
    expect(result.heapAfter - result.heapBefore).toBeLessThan(1024 * 1024);
  }, 60_000);

  it('when it turns without work, then no listener piles up on its stop signal', async () => {
    const clock: Clock = { now: () => Date.now(), sleep: (_ms, signal) => (signal?.aborted ? Promise.resolve() : new Promise((resolve) => setImmediate(resolve))) };
    const loop = new IdleLoop(clock, 10_000);
    loop.start();
    const before = loop.stopListeners();
    await loop.reached;
    const after = loop.stopListeners();
    await loop.stop();
    expect(after - before).toBe(0);
  });

  it('when notified while waiting, then it turns again at once, and stop() ends a wait', async () => {
    const waits: AbortSignal[] = [];
    const clock: Clock = {
      now: () => Date.now(),
      sleep: (_ms, signal) => new Promise<void>((resolve) => {
        waits.push(signal!);
        signal!.addEventListener('abort', () => resolve(), { once: true });
      }),
    };
    const loop = new IdleLoop(clock, 3);
    loop.start();
    await new Promise((r) => setImmediate(r));
    expect(waits).toHaveLength(1);
    loop.notify();
    await new Promise((r) => setImmediate(r));
    expect(waits).toHaveLength(2);
    expect(waits[0]!.aborted).toBe(true);
    await loop.stop();
    expect(waits[1]!.aborted).toBe(true);
  });

  it('when notified many times before it wakes (a burst of webhooks), then its wait is aborted once, not once per notice', async () => {
    const clock: Clock = { now: () => Date.now(), sleep: (_ms, signal) => new Promise<void>((resolve) => signal!.addEventListener('abort', () => resolve(), { once: true })) };
    const loop = new IdleLoop(clock, 1_000_000);
    loop.start();
    await new Promise((r) => setImmediate(r));
    // Each abort() builds a DOMException with a stack trace: one per stored webhook cost 2 % of a busy service's CPU.
    const abort = jest.spyOn(AbortController.prototype, 'abort');
    try {
      for (let i = 0; i < 100; i++) loop.notify();
      expect(abort).toHaveBeenCalledTimes(1);
    } finally {
      abort.mockRestore();
      await loop.stop();
    }
  });
});
