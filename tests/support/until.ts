/**
 * Waits for a condition that only the store (or time on the database's clock) can make true: checks it
 * now and every few milliseconds until it holds, or fails after `timeoutMs` saying what was awaited.
 */
export async function until(holds: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await holds())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
