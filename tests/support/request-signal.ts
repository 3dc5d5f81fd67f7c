/**
 * Lets a test server's callers wait for a condition that only a request can change: `changed()` after
 * each request re-checks every waiter. No polling, no sleeping.
 */
export class RequestSignal {
  private readonly listeners = new Set<() => void>();

  /** Call after every request the server handled. */
  changed(): void {
    for (const listener of [...this.listeners]) listener();
  }

  /** Resolves once `holds()` is true, checked now and after each request; rejects after `timeoutMs` with `describe()`. */
  waitFor(holds: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
    if (holds()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!holds()) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${describe()} (not met within ${timeoutMs} ms)`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
    });
  }
}
