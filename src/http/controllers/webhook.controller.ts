import type { RequestHandler } from 'express';
import { routeFor } from '../../config/config';
import { parseWebhookMessage } from '../../domain/webhook-message';
import { AppError } from '../../errors';
import type { WebhookReceiver } from '../../rollback/webhook-receiver';
import type { AppDeps } from '../app-deps';

/** POST / and POST /v1/webhooks/argocd: parse, decide and store durably, then answer. Delivery happens later. */
export function createWebhookController({ config, onEventStored }: AppDeps, receiver: WebhookReceiver): RequestHandler {
  const sourceIndexFor = (app: string) => routeFor(config, app).sourceIndex;
  return async (req, res) => {
    const message = parseWebhookMessage(req.body, sourceIndexFor);
    let outcome;
    try {
      outcome = await receiver.receive(message, { requestId: typeof req.id === 'string' ? req.id : null, log: req.log });
    } catch (error) {
      if (error instanceof AppError) throw error;
      throw new AppError('STORE_UNAVAILABLE', undefined, { cause: error });
    }

    switch (outcome.kind) {
      case 'accepted':
        if (outcome.status === 'queued') onEventStored?.();
        res
          .status(202)
          .location(`/v1/events/${outcome.id}`)
          .json({
            id: outcome.id,
            status: outcome.status,
            app: outcome.app,
            failed_revision: outcome.failedRevision,
            healthy_revision: outcome.healthyRevision,
            target_reason: outcome.targetReason,
          });
        return;
      case 'duplicate':
        res.status(200).location(`/v1/events/${outcome.id}`).json({ status: 'duplicate', id: outcome.id });
        return;
      case 'recorded':
        res.status(200).json({ status: 'recorded', app: outcome.app, health: outcome.health, revision: outcome.revision });
        return;
      case 'suppressed':
        throw new AppError('ROLLBACK_SUPPRESSED', `rollback refused: ${outcome.reason} (event ${outcome.id})`);
      case 'no_target':
        throw new AppError('NO_HEALTHY_REVISION', outcome.reason);
    }
  };
}
