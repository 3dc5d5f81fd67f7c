import { v7 as uuidv7 } from 'uuid';
import type { RequestHandler } from 'express';
import { buildDispatchBody, serializeDispatchBody } from '../../domain/dispatch-body';
import { parseRollbackRequest } from '../../domain/rollback-request';
import { AppError } from '../../errors';
import { insertEvent } from '../../store/events.repository';
import type { AppDeps } from '../app-deps';

/** POST / and POST /v1/webhooks/argocd: validate, store durably, answer 202. Delivery happens later. */
export function createWebhookController({ config, store, clock, onEventStored }: AppDeps): RequestHandler {
  const target = { owner: config.github.owner, repo: config.github.repo };
  return async (req, res) => {
    const request = parseRollbackRequest(req.body);
    // UUIDv7: time-ordered, so "newest first" is stable even for events stored in the same millisecond.
    const id = uuidv7();
    const body = buildDispatchBody({ ...request, eventType: request.eventType ?? config.github.eventType, eventId: id });
    const dispatchBody = serializeDispatchBody(body);
    const status = config.dryRun ? 'dry_run' : 'queued';
    try {
      await insertEvent(
        store.db,
        {
          id,
          app: request.app,
          failedRevision: request.failedRevision,
          healthyRevision: request.healthyRevision,
          target,
          eventType: body.event_type,
          dispatchBody,
          status,
          requestId: typeof req.id === 'string' ? req.id : null,
        },
        clock.now(),
      );
    } catch (error) {
      throw new AppError('STORE_UNAVAILABLE', undefined, { cause: error });
    }

    const log = req.log.child({ eventId: id, app: request.app });
    if (status === 'dry_run') {
      log.info({ repo: `${target.owner}/${target.repo}`, dispatch: body }, 'dry run: recorded; this dispatch would be sent to GitHub');
    } else {
      log.info({ failedRevision: request.failedRevision, healthyRevision: request.healthyRevision }, 'queued');
      onEventStored?.();
    }
    res
      .status(202)
      .location(`/v1/events/${id}`)
      .json({ id, status, app: request.app, failed_revision: request.failedRevision, healthy_revision: request.healthyRevision });
  };
}
