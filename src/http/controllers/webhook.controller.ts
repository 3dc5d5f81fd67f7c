import type { RequestHandler } from 'express';
import { githubHosts, routeFor } from '../../config/config';
import type { Route } from '../../config/routes';
import { parseWebhookMessage } from '../../domain/webhook-message';
import { AppError } from '../../errors';
import { recordHealth, recordNotRestorable, recordRollback } from '../../rollback/record-rollback';
import type { AppDeps } from '../app-deps';
import { noteDecision } from '../middleware/request-logger';

/**
 * POST / and POST /v1/webhooks/argocd: parse (domain), store durably under the policy's plan
 * (rollback/record-rollback), then one answer; what was decided goes into the request's one log line
 * (noteDecision). Delivery happens later.
 */
export function createWebhookController({ config, store, clock, wiring, onEventStored, onReportRecorded, onNotification }: AppDeps): RequestHandler {
  const notify = config.notify.url !== undefined;
  // The route is resolved while parsing (its source index) and again to record: the last one is kept.
  let last: { app: string; route: Route } | undefined;
  const routeOf = (app: string): Route => (last?.app === app ? last.route : (last = { app, route: routeFor(config, app) }).route);
  const sourceIndexFor = (app: string) => routeOf(app).sourceIndex;
  const hosts = githubHosts(config);
  return async (req, res) => {
    const message = parseWebhookMessage(req.body, sourceIndexFor);
    res.locals.app = message.app;

    if (message.kind === 'not_deployed') {
      // Nothing Argo CD deployed can be rolled back; a 2xx keeps Argo CD from re-sending every minute.
      noteDecision(res, 'warn', { app: message.app, shape: message.shape }, `not a rollback: ${message.reason}`);
      if (await recordNotRestorable(store, message, { now: clock.now(), notify })) onNotification?.();
      res.locals.outcome = 'not_deployed';
      res.status(200).json({ status: 'not_deployed', app: message.app, message: message.reason });
      return;
    }
    if (message.kind === 'not_restorable') {
      // 2xx on purpose, as not_deployed: nothing can be dispatched, and a 4xx would be re-sent every minute.
      const told = await recordNotRestorable(store, message, { now: clock.now(), notify });
      noteDecision(
        res,
        message.health === 'Degraded' ? 'warn' : 'info',
        { app: message.app, shape: message.shape, revision: message.revision, reason: message.reason },
        message.health === 'Degraded' ? `Degraded, not restorable: ${message.reason}` : `${message.health}, not restorable: ${message.reason}`,
      );
      if (told) onNotification?.();
      res.locals.outcome = 'not_restorable';
      res.status(200).json({ status: 'not_restorable', app: message.app, revision: message.revision, message: message.reason });
      return;
    }
    if (message.kind === 'health_not_recorded') {
      // 2xx: Argo CD must not re-send it; the next report after a sync that succeeded is recorded.
      noteDecision(res, 'info', { app: message.app, shape: message.shape, health: message.status, reason: message.reason }, `${message.status}, not recorded: ${message.reason}`);
      res.locals.outcome = 'not_recorded';
      res.status(200).json({ status: 'not_recorded', app: message.app, health: message.status, message: message.reason });
      return;
    }
    if (message.kind === 'health') {
      await recordHealth(store, message, clock.now());
      noteDecision(res, 'info', { app: message.app, health: message.status, revision: message.revision }, 'health recorded');
      if (message.status === 'Healthy') onReportRecorded?.();
      res.locals.outcome = 'recorded';
      res.status(200).json({ status: 'recorded', app: message.app, health: message.status, revision: message.revision });
      return;
    }

    const route = routeOf(message.app);
    const requestId = typeof req.id === 'string' ? req.id : null;
    // Store errors reach the error handler, which answers 503 for them and 500 for anything else.
    const outcome = await recordRollback(store, message, route, { requestId, now: clock.now(), notify, githubHosts: hosts });
    const fields = { app: message.app, shape: message.shape, failedRevision: message.failedRevision, route: route.matched };
    res.locals.outcome = outcome.kind;
    switch (outcome.kind) {
      case 'accepted': {
        const eventFields = { ...fields, eventId: outcome.id, healthyRevision: outcome.healthyRevision, targetReason: outcome.targetReason };
        for (const target of outcome.targets) wiring?.noteRepository?.(target.repository);
        if (outcome.status === 'queued') {
          noteDecision(res, 'info', { ...eventFields, restore: outcome.targets }, 'queued');
          onEventStored?.();
        } else {
          const dispatches = outcome.dispatches.map((d, i) => ({ eventId: outcome.targets[i]!.id, repo: d.repository, dispatch: d.body }));
          noteDecision(res, 'info', { ...eventFields, dispatches }, `dry run: recorded; ${dispatches.length === 1 ? 'this dispatch' : `these ${dispatches.length} dispatches`} would be sent to GitHub`);
        }
        res
          .status(202)
          .location(`/v1/events/${outcome.id}`)
          .json({
            id: outcome.id,
            status: outcome.status,
            app: message.app,
            failed_revision: message.failedRevision,
            healthy_revision: outcome.healthyRevision,
            target_reason: outcome.targetReason,
            restore: outcome.targets,
          });
        return;
      }
      case 'duplicate':
        noteDecision(res, 'info', { ...fields, eventId: outcome.id }, 'duplicate rollback: already known, nothing sent');
        res.status(200).location(`/v1/events/${outcome.id}`).json({ status: 'duplicate', id: outcome.id });
        return;
      case 'not_a_deploy':
        // 2xx on purpose: a 4xx would make Argo CD's retry trigger send this every minute.
        noteDecision(res, 'warn', { ...fields, reason: outcome.reason, repeat: !outcome.firstTime }, `Degraded without rollback: ${outcome.reason}`);
        if (outcome.firstTime) onNotification?.();
        res.status(200).json({ status: 'not_a_deploy', app: message.app, revision: message.failedRevision, message: outcome.reason });
        return;
      case 'not_restorable':
        noteDecision(res, 'warn', { ...fields, reason: outcome.reason, repeat: !outcome.firstTime }, `Degraded, not restorable: ${outcome.reason}`);
        if (outcome.firstTime) onNotification?.();
        res.status(200).json({ status: 'not_restorable', app: message.app, revision: message.failedRevision, message: outcome.reason });
        return;
      case 'suppressed':
        if (!outcome.repeat) onNotification?.();
        noteDecision(res, 'warn', { ...fields, eventId: outcome.id, reason: outcome.reason, repeat: outcome.repeat }, `rollback suppressed: ${outcome.reason}`);
        throw new AppError('ROLLBACK_SUPPRESSED', `rollback refused: ${outcome.reason} (event ${outcome.id})`);
      case 'no_target':
        if (outcome.firstTime) onNotification?.();
        noteDecision(res, 'warn', { ...fields, reason: outcome.reason }, 'no healthy revision to roll back to');
        throw new AppError('NO_HEALTHY_REVISION', outcome.reason);
    }
  };
}
