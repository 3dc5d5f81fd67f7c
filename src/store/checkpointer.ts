import { Worker } from 'node:worker_threads';

/**
 * The worker thread's code (plain CommonJS, evaluated; the same under ts-jest and in dist/). It opens
 * its own connection to the database file and copies the WAL back into it with PASSIVE checkpoints,
 * which never block the writer. busy_timeout=0: a checkpoint that finds the lock taken waits for the
 * next turn instead of sleeping. After each one it tells the parent how long the WAL is and how much
 * of it is copied; 'catch-up' asks for one checkpoint now, answered the same way.
 */
const CODE = `
const { parentPort, workerData } = require('node:worker_threads');
const SQLite = require(workerData.module);
const db = new SQLite(workerData.filename);
db.pragma('busy_timeout = 0');
const checkpoint = () => {
  try {
    const [{ log, checkpointed }] = db.pragma('wal_checkpoint(PASSIVE)');
    return { log, checkpointed };
  } catch (error) {
    if (error.code !== 'SQLITE_BUSY' && error.code !== 'SQLITE_LOCKED') throw error;
    return { log: -1, checkpointed: -1 };
  }
};
const timer = setInterval(() => parentPort.postMessage(checkpoint()), workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message === 'catch-up') {
    parentPort.postMessage({ ...checkpoint(), caughtUp: true });
    return;
  }
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.close();
});
`;

interface Report {
  log: number;
  checkpointed: number;
  caughtUp?: boolean;
}

/**
 * SQLite checkpoints off the event loop. The service's connection runs with wal_autocheckpoint=0, so no
 * commit on the HTTP thread ever copies WAL pages into the database file and fsyncs it; this thread
 * does, every `intervalMs`. If the thread fails, `onFailure` hears why and the caller turns the
 * connection's own checkpoints back on, so the WAL never grows without bound.
 *
 * A PASSIVE checkpoint copies what was committed when it started, and SQLite starts the WAL again from
 * its beginning only when a write finds all of it copied. Under a steady stream of commits that moment
 * never comes and the WAL grows with everything written (19 GB while filling the bench's year of
 * history). So once the WAL is longer than `restartFrames`, `needsCatchUp` says so, and the writer
 * (group commit) waits for `catchUp()`, a checkpoint with no commit in between, before its next
 * transaction, which then starts the WAL over.
 */
export class Checkpointer {
  private readonly worker: Worker;
  private stopped = false;
  private gone = false;
  private walFrames = 0;
  private waiting: Array<() => void> = [];

  constructor(
    filename: string,
    onFailure: (error: Error) => void,
    private readonly options: { intervalMs?: number; restartFrames?: number } = {},
  ) {
    this.worker = new Worker(CODE, {
      eval: true,
      workerData: { filename, intervalMs: options.intervalMs ?? 100, module: require.resolve('better-sqlite3') },
      // A connection and a timer: a few MB of heap is plenty.
      resourceLimits: { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 2 },
    });
    this.worker.on('message', (report: Report) => {
      // The WAL's length: it only shrinks when a write starts it over, after a checkpoint copied all of it.
      if (report.log >= 0) this.walFrames = report.log;
      // Caught up: the next transaction starts the WAL over; the next report says whether it did.
      if (report.caughtUp) {
        if (report.log === report.checkpointed) this.walFrames = 0;
        this.release();
      }
    });
    this.worker.on('error', (error) => {
      if (!this.stopped) onFailure(error);
    });
    // Nobody waits for a thread that is gone (the connection checkpoints itself then).
    this.worker.on('exit', () => {
      this.gone = true;
      this.walFrames = 0;
      this.release();
    });
    // The service must exit when its HTTP server closes, whatever this thread is doing.
    this.worker.unref();
  }

  /** The WAL holds more than `restartFrames` frames, not all of them copied yet. */
  get needsCatchUp(): boolean {
    return this.walFrames > (this.options.restartFrames ?? 10_000);
  }

  /** One checkpoint now; resolves when it is done (or the thread is gone). Call it between commits. */
  catchUp(): Promise<void> {
    if (this.gone) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      if (this.waiting.length > 1) return;
      // Someone waits for the answer: the thread keeps the process alive until it comes.
      this.worker.ref();
      this.worker.postMessage('catch-up');
    });
  }

  /** One last checkpoint, then the thread ends. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const exited = new Promise((resolve) => this.worker.once('exit', resolve));
    // Kept alive while it finishes: an unreferenced thread would let the process end mid-close.
    this.worker.ref();
    this.worker.postMessage('stop');
    await exited;
  }

  private release(): void {
    if (!this.stopped) this.worker.unref();
    const waiting = this.waiting;
    this.waiting = [];
    waiting.forEach((resolve) => resolve());
  }
}
