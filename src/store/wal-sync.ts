import { closeSync, fstatSync, fsync, openSync, statSync } from 'node:fs';

/**
 * Makes committed SQLite WAL transactions durable off the event loop. The connection runs with
 * synchronous=NORMAL, so a commit writes the WAL without an fsync; `durable()` then fsyncs the WAL
 * file on libuv's thread pool and resolves once an fsync that started after the call has finished.
 * Linux flushes an inode's data whichever descriptor wrote it, so one fsync covers every commit made
 * before it started: callers that arrive while one is in flight share the next one.
 */
export class WalSync {
  private fd: number | undefined;
  private inFlight: Promise<void> | undefined;
  private next: Promise<void> | undefined;

  /** `sync` is fs.fsync; tests pass one they can hold. */
  constructor(
    private readonly walPath: string,
    private readonly sync: (fd: number, done: (error: Error | null) => void) => void = fsync,
  ) {}

  durable(): Promise<void> {
    if (this.inFlight === undefined) return this.start();
    // The fsync in flight may have started before the caller's commit: wait for the one after it.
    this.next ??= this.inFlight
      .catch(() => undefined)
      .then(() => {
        this.next = undefined;
        return this.start();
      });
    return this.next;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private start(): Promise<void> {
    const run = new Promise<void>((resolve, reject) => this.sync(this.descriptor(), (error) => (error ? reject(error) : resolve())));
    this.inFlight = run;
    const clear = () => {
      if (this.inFlight === run) this.inFlight = undefined;
    };
    run.then(clear, clear);
    return run;
  }

  /** The WAL's descriptor, reopened if SQLite ever replaced the file (it does not while a connection is open). */
  private descriptor(): number {
    if (this.fd !== undefined && fstatSync(this.fd).ino !== statSync(this.walPath).ino) this.close();
    this.fd ??= openSync(this.walPath, 'r');
    return this.fd;
  }
}
