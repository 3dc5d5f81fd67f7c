import { Worker } from 'node:worker_threads';

/**
 * The thread's code (plain CommonJS, evaluated; the same under ts-jest and in dist/): its own connection
 * to the file, auto_vacuum=INCREMENTAL, VACUUM, closed.
 */
const CODE = `
const { parentPort, workerData } = require('node:worker_threads');
const SQLite = require(workerData.module);
const db = new SQLite(workerData.filename);
try {
  db.pragma('busy_timeout = 60000');
  db.pragma('auto_vacuum = INCREMENTAL');
  db.exec('VACUUM');
  parentPort.postMessage({ ok: true });
} catch (error) {
  parentPort.postMessage({ ok: false, message: error.message, code: error.code });
} finally {
  db.close();
}
`;

/**
 * SQLite's one-time conversion of a file made before retention to auto_vacuum=INCREMENTAL (a VACUUM,
 * which rewrites the whole file: a minute or more for a large one), on a thread of its own, so the HTTP
 * loop goes on answering /healthz meanwhile. The caller's connection must be idle until it resolves.
 */
export function vacuumOffThread(filename: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(CODE, { eval: true, workerData: { filename, module: require.resolve('better-sqlite3') } });
    worker.once('message', (result: { ok: boolean; message?: string; code?: string }) => {
      if (result.ok) resolve();
      else reject(Object.assign(new Error(`the one-time VACUUM failed: ${result.message ?? 'unknown'}`), { code: result.code }));
    });
    worker.once('error', reject);
  });
}
