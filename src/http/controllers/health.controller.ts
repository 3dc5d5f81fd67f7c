import type { RequestHandler } from 'express';
import { AppError } from '../../errors';
import type { AppDeps } from '../app-deps';

/** /healthz: the process answers. */
export const live: RequestHandler = (_req, res) => {
  res.json({ status: 'ok' });
};

/** /readyz: the store answers a query (config was valid, or the process would not have started). */
export function createReadiness({ config, store, isStopping, wiring, startup }: AppDeps): RequestHandler {
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
    res.json({ status: 'ready', github: github ? { ok: github.ok, checked_at: new Date(github.checkedAt).toISOString(), failing: github.checks.filter((c) => !c.ok) } : null });
  };
}
