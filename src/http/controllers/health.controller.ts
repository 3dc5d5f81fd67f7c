import type { RequestHandler } from 'express';
import { AppError } from '../../errors';
import type { AppDeps } from '../app-deps';

/** /healthz: the process answers. */
export const live: RequestHandler = (_req, res) => {
  res.json({ status: 'ok' });
};

/** /readyz: the store answers a query (config was valid, or the process would not have started). */
export function createReadiness({ store, isStopping }: AppDeps): RequestHandler {
  return async (_req, res) => {
    if (isStopping?.()) throw new AppError('SHUTTING_DOWN');
    try {
      await store.ping();
    } catch (error) {
      throw new AppError('STORE_UNAVAILABLE', 'the event store does not answer', { cause: error });
    }
    res.json({ status: 'ready' });
  };
}
