import type { RequestHandler } from 'express';
import { AppError } from '../../errors';
import type { AppDeps } from '../app-deps';
import { BODY_LIMIT_BYTES } from '../middleware/json-body';
import { STORE_PROBLEM_QUIET_MS, type StoreProblemKind } from '../../store/store-error';

/** Problems of the disk under the store: while they recur, writes fail however the reads answer. */
const WRITE_FAULTS = new Set<StoreProblemKind>(['disk_full', 'read_only', 'io_error']);

/** /healthz: the process answers. */
export const live: RequestHandler = (_req, res) => {
  res.json({ status: 'ok' });
};

/**
 * /readyz: the store answers a query (config was valid, or the process would not have started); while its
 * writes fail (a full or read-only disk, which reads do not notice), it must also take a write.
 */
export function createReadiness({ config, store, clock, isStopping, wiring, startup }: AppDeps): RequestHandler {
  return async (_req, res) => {
    if (isStopping?.()) throw new AppError('SHUTTING_DOWN');
    if (startup && !startup.ready()) throw new AppError('STARTING', `the service is starting: ${startup.waitingFor()}`);
    const github = wiring?.current();
    // A broken GitHub does not stop webhooks from being stored safely, so by default it is only reported.
    if (config.github.readyRequiresGitHub && github && !github.ok) throw new AppError('GITHUB_NOT_READY');
    try {
      await store.ping();
    } catch (error) {
      throw new AppError('STORE_UNAVAILABLE', 'the event store does not answer', { cause: error });
    }
    const problem = store.problem();
    if (problem) {
      // The spell's first error, so the log line names the problem like the refused writes' lines do.
      const first = Object.assign(new Error(problem.first), { code: problem.code });
      const notTaking = `the event store does not take writes: ${problem.label} (since ${new Date(problem.since).toISOString()}, ${problem.count} failed; first error: ${problem.first})`;
      // A write failed within the spell's quiet window: not ready, whatever a probe would say (a small
      // write may fit where a webhook does not). After it, a write the size of the largest webhook decides.
      // A busy pool or a dropped connection passes by itself and the ping above vouches for the rest.
      if (WRITE_FAULTS.has(problem.kind) && Date.now() - problem.lastAt < STORE_PROBLEM_QUIET_MS) throw new AppError('STORE_UNAVAILABLE', notTaking, { cause: first });
      try {
        await store.probeWrite(clock.now(), BODY_LIMIT_BYTES);
      } catch (error) {
        throw new AppError('STORE_UNAVAILABLE', notTaking, { cause: error });
      }
    }
    res.json({ status: 'ready', github: github ? { ok: github.ok, checked_at: new Date(github.checkedAt).toISOString(), failing: github.checks.filter((c) => !c.ok) } : null });
  };
}
