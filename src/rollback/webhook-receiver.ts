import type { Logger } from 'pino';
import { v7 as uuidv7 } from 'uuid';
import type { Clock } from '../clock';
import { routeFor, type Config } from '../config/config';
import { buildDispatchBody, serializeDispatchBody } from '../domain/dispatch-body';
import { decideRollback } from '../domain/rollback-policy';
import type { WebhookMessage } from '../domain/webhook-message';
import type { Store } from '../store/database';
import { countRollbacksSince, findRollbackId, insertEvent, isUniqueViolation, type RollbackKey } from '../store/events.repository';
import { insertReport, listReports } from '../store/reports.repository';

export type ReceiveOutcome =
  | { kind: 'accepted'; id: string; status: 'queued' | 'dry_run'; app: string; failedRevision: string; healthyRevision: string; targetReason: string }
  | { kind: 'duplicate'; id: string }
  | { kind: 'recorded'; app: string; health: string; revision: string }
  | { kind: 'suppressed'; id: string; reason: string }
  | { kind: 'no_target'; reason: string };

export interface WebhookReceiver {
  /** Applies the rollback policy to one message and stores the result durably before returning. */
  receive(message: WebhookMessage, context: { requestId: string | null; log: Logger }): Promise<ReceiveOutcome>;
}

export function createWebhookReceiver(deps: { config: Config; store: Store; clock: Clock }): WebhookReceiver {
  const { config, store, clock } = deps;

  return {
    async receive(message, { requestId, log }) {
      const now = clock.now();
      if (message.kind === 'health') {
        await insertReport(store.db, { id: uuidv7(), app: message.app, revision: message.revision, status: message.status, source: 'health_report', eventId: null }, now);
        log.info({ app: message.app, health: message.status, revision: message.revision }, 'health recorded');
        return { kind: 'recorded', app: message.app, health: message.status, revision: message.revision };
      }

      const route = routeFor(config, message.app);
      const key: RollbackKey = { owner: route.owner, repo: route.repo, app: message.app, failedRevision: message.failedRevision };
      const id = uuidv7();
      const eventLog = log.child({ eventId: id, app: message.app });

      let outcome: ReceiveOutcome;
      try {
        // One transaction, holding the app's lock (PostgreSQL: an advisory lock, so replicas take turns per
        // app): the dedupe read, the failed-revision record, the ledger read, the loop-guard count and the
        // insert see one consistent state. The unique index on the rollback key is what settles a race
        // between two identical requests; the read only spares the common repeat a write.
        outcome = await store.db.transaction().execute(async (trx): Promise<ReceiveOutcome> => {
          await store.lockApp(trx, message.app);
          const existing = await findRollbackId(trx, key);
          if (existing) return { kind: 'duplicate', id: existing };

          // Recorded as what it came as: a Degraded health report (shapes B, C) or a rollback request (A).
          const source = message.shape === 'A' ? 'rollback_request' : 'health_report';
          await insertReport(trx, { id: uuidv7(), app: message.app, revision: message.failedRevision, status: 'Degraded', source, eventId: id }, now);
          const decision = decideRollback({
            failedRevision: message.failedRevision,
            requestedTarget: message.requestedTarget,
            reports: await listReports(trx, message.app),
            history: message.history,
            recentRollbacks: await countRollbacksSince(trx, message.app, now - route.windowMinutes * 60_000),
            maxPerWindow: route.maxPerWindow,
            windowMinutes: route.windowMinutes,
          });
          // Not a rollback: keep the Degraded record (it is true), store no event.
          if (decision.kind === 'no_target') return { kind: 'no_target', reason: decision.reason };

          const extras = route.valuesPaths ? { ...message.extras, values_paths: route.valuesPaths.join('\n') } : message.extras;
          const body = buildDispatchBody({
            eventType: message.eventType ?? route.eventType,
            app: message.app,
            failedRevision: message.failedRevision,
            healthyRevision: decision.target.revision,
            eventId: id,
            extras,
          });
          const status = decision.kind === 'suppressed' ? 'suppressed' : route.dryRun ? 'dry_run' : 'queued';
          await insertEvent(
            trx,
            {
              id,
              app: message.app,
              failedRevision: message.failedRevision,
              healthyRevision: decision.target.revision,
              target: { owner: route.owner, repo: route.repo },
              eventType: body.event_type,
              dispatchBody: serializeDispatchBody(body),
              status,
              requestId,
              targetReason: decision.target.reason,
              suppressionReason: decision.kind === 'suppressed' ? decision.reason : null,
            },
            now,
          );
          if (decision.kind === 'suppressed') return { kind: 'suppressed', id, reason: decision.reason };
          if (status === 'dry_run') {
            eventLog.info({ repo: `${route.owner}/${route.repo}`, dispatch: body }, 'dry run: recorded; this dispatch would be sent to GitHub');
          }
          return {
            kind: 'accepted',
            id,
            status: status === 'dry_run' ? 'dry_run' : 'queued',
            app: message.app,
            failedRevision: message.failedRevision,
            healthyRevision: decision.target.revision,
            targetReason: decision.target.reason,
          };
        });
      } catch (error) {
        // The loser of a race between two identical requests: the winner's row is committed.
        const existing = isUniqueViolation(error) ? await findRollbackId(store.db, key) : undefined;
        if (!existing) throw error;
        outcome = { kind: 'duplicate', id: existing };
      }

      const fields = { shape: message.shape, failedRevision: message.failedRevision, route: route.matched };
      switch (outcome.kind) {
        case 'accepted':
          if (outcome.status === 'queued') eventLog.info({ ...fields, healthyRevision: outcome.healthyRevision, targetReason: outcome.targetReason }, 'queued');
          break;
        case 'duplicate':
          log.info({ ...fields, app: message.app, eventId: outcome.id }, 'duplicate rollback: already known, nothing sent');
          break;
        case 'suppressed':
          eventLog.warn({ ...fields, reason: outcome.reason }, `rollback suppressed: ${outcome.reason}`);
          break;
        case 'no_target':
          log.warn({ ...fields, app: message.app, reason: outcome.reason }, 'no healthy revision to roll back to');
          break;
      }
      return outcome;
    },
  };
}
