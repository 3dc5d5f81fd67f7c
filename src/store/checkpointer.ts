import { Worker } from 'node:worker_threads';

/**
 * The worker thread's code (plain CommonJS, evaluated; the same under ts-jest and in dist/). It opens
 * its own connection to the database file and copies the WAL back into it with PASSIVE checkpoints,
 * which never block the writer. busy_timeout=0: a checkpoint that finds the lock taken waits for the
 * next turn instead of sleeping.
 */
const CODE = `
const { parentPort, workerData } = require('node:worker_threads');
const SQLite = require(workerData.module);
const db = new SQLite(workerData.filename);
db.pragma('busy_timeout = 0');
const checkpoint = () => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch (error) { if (error.code !== 'SQLITE_BUSY' && error.code !== 'SQLITE_LOCKED') throw error; }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.close();
});
`;

/**
 * SQLite checkpoints off the event loop. The service's connection runs with wal_autocheckpoint=0, so no
 * commit on the HTTP thread ever copies WAL pages into the database file and fsyncs it; this thread
 * does, every `intervalMs`. If the thread fails, `onFailure` hears why and the caller turns the
 * connection's own checkpoints back on, so the WAL never grows without bound.
 */
export class Checkpointer {
  private readonly worker: Worker;
  private stopped = false;

  constructor(filename: string, onFailure: (error: Error) => void, intervalMs = 100) {
    this.worker = new Worker(CODE, {
      eval: true,
      workerData: { filename, intervalMs, module: require.resolve('better-sqlite3') },
      // A connection and a timer: a few MB of heap is plenty.
      resourceLimits: { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 2 },
    });
    this.worker.on('error', (error) => {
      if (!this.stopped) onFailure(error);
    });
    // The service must exit when its HTTP server closes, whatever this thread is doing.
    this.worker.unref();
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
}
