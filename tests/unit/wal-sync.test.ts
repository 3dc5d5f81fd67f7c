import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WalSync } from '../../src/store/wal-sync';

/** An fsync the test finishes by hand, recording each call. */
function heldSync() {
  const calls: Array<(error: Error | null) => void> = [];
  return { calls, sync: (_fd: number, done: (error: Error | null) => void) => void calls.push(done) };
}

const settled = async (promise: Promise<unknown>) => {
  let done = false;
  void promise.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((r) => setImmediate(r));
  return done;
};

describe('WalSync', () => {
  let dir: string;
  let wal: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'wal-sync-'));
    wal = join(dir, 'db-wal');
    writeFileSync(wal, 'frames');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('when asked with no fsync in flight, then it resolves once one fsync has finished', async () => {
    const held = heldSync();
    const walSync = new WalSync(wal, held.sync);
    const first = walSync.durable();
    expect(held.calls).toHaveLength(1);
    expect(await settled(first)).toBe(false);
    held.calls[0]!(null);
    await expect(first).resolves.toBeUndefined();
    walSync.close();
  });

  it('when asked while an fsync is in flight, then callers wait for one more fsync that starts after it, and share it', async () => {
    const held = heldSync();
    const walSync = new WalSync(wal, held.sync);
    const first = walSync.durable();
    const second = walSync.durable();
    const third = walSync.durable();
    expect(held.calls).toHaveLength(1);
    held.calls[0]!(null);
    await first;
    // The first fsync may have started before the second and third callers' commits: it does not count for them.
    expect(await settled(second)).toBe(false);
    expect(held.calls).toHaveLength(2);
    held.calls[1]!(null);
    await expect(Promise.all([second, third])).resolves.toEqual([undefined, undefined]);
    expect(held.calls).toHaveLength(2);
    walSync.close();
  });

  it('when an fsync fails, then its callers get the error and the next caller gets a new fsync', async () => {
    const held = heldSync();
    const walSync = new WalSync(wal, held.sync);
    const failing = walSync.durable();
    held.calls[0]!(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }));
    await expect(failing).rejects.toThrow('EIO');
    const later = walSync.durable();
    expect(held.calls).toHaveLength(2);
    held.calls[1]!(null);
    await expect(later).resolves.toBeUndefined();
    walSync.close();
  });

  it('with the real fsync, then a written WAL file is synced', async () => {
    const walSync = new WalSync(wal);
    await expect(walSync.durable()).resolves.toBeUndefined();
    walSync.close();
  });
});
