/**
 * Run by tests/unit/polling-loop.test.ts as `node --expose-gc --require tsx/cjs <this file> <turns>`:
 * turns a polling loop that finds nothing due `turns` times (each wait ends at once) and prints, as JSON,
 * the heap after a full GC before and after, and how many signals hang on to its stop signal.
 */
import type { Clock } from '../../src/clock';
import { createLogger } from '../../src/logger';
import { PollingLoop } from '../../src/workers/polling-loop';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

class IdleLoop extends PollingLoop {
  turns = 0;
  private reachedTarget!: () => void;
  readonly reached = new Promise<void>((resolve) => (this.reachedTarget = resolve));
  constructor(private readonly target: number) {
    const clock: Clock = { now: () => Date.now(), sleep: (_ms, signal) => (signal?.aborted ? Promise.resolve() : new Promise((resolve) => setImmediate(resolve))) };
    super(clock, createLogger('silent'), 1000);
  }
  protected override step(): Promise<number> {
    if (++this.turns === this.target) this.reachedTarget();
    return Promise.resolve(this.clock.now() + 10);
  }
  protected override afterStop(): Promise<void> {
    return Promise.resolve();
  }
  /** Node keeps signals made by AbortSignal.any in a set on each source signal (an internal symbol). */
  dependants(): number {
    const signal = this.stopSignal.signal as unknown as Record<symbol, unknown>;
    const symbol = Object.getOwnPropertySymbols(signal).find((s) => s.description === 'kDependantSignals');
    const set = symbol ? (signal[symbol] as Set<unknown> | undefined) : undefined;
    return set?.size ?? 0;
  }
}

async function main(): Promise<void> {
  const turns = Number(process.argv[2] ?? 100_000);
  const warm = new IdleLoop(1000);
  warm.start();
  await warm.reached;
  await warm.stop();
  const loop = new IdleLoop(turns + 1000);
  loop.start();
  // The first 1,000 turns warm up (code compiled, caches filled); measured from there.
  while (loop.turns < 1000) await new Promise((r) => setImmediate(r));
  gc!();
  const before = process.memoryUsage().heapUsed;
  await loop.reached;
  gc!();
  const after = process.memoryUsage().heapUsed;
  const dependants = loop.dependants();
  await loop.stop();
  process.stdout.write(`${JSON.stringify({ turns: loop.turns, heapBefore: before, heapAfter: after, dependants })}\n`);
}

void main();
