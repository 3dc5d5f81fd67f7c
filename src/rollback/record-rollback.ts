import { v7 as uuidv7 } from 'uuid';
import type { Route } from '../config/routes';
import { buildDispatchBody, serializeDispatchBody } from '../domain/dispatch-body';
import { planRollback, type RollbackFacts, type RollbackPlan } from '../domain/rollback-plan';
import type { WebhookMessage } from '../domain/webhook-message';
import type { Store } from '../store/database';
import { openDelivery } from '../store/deliveries.repository';
import { countRollbacksSince, findRollbackId, findSuppressedId, insertEvent, isUniqueViolation, type RollbackKey } from '../store/events.repository';
import { enqueueNotification } from '../store/notifications.repository';
import { findPause } from '../store/pauses.repository';
import { insertReport, listPolicyReports } from '../store/reports.repository';

type RollbackMessage = Extract<WebhookMessage, { kind: 'rollback' }>;
type HealthMessage = Extract<WebhookMessage, { kind: 'health' }>;

/** The plan that was carried out, with the id of the event it stored or refers to. */
export type RecordedRollback =
  | { kind: 'duplicate'; id: string }
  | { kind: 'no_target'; reason: string }
  | { kind: 'not_a_deploy'; reason: string; firstTime: boolean }
  | { kind: 'suppressed'; id: string; reason: string; repeat: boolean }
  | { kind: 'accepted'; id: string; status: 'queued' | 'dry_run'; healthyRevision: string; targetReason: string; dispatch: Record<string, unknown> };

/** The revisions the policy weighs for this request: the failed one, the requested target, the history's. */
function policyRevisions(message: RollbackMessage): string[] {
  const revisions = [message.failedRevision];
  if (message.requestedTarget !== undefined) revisions.push(message.requestedTarget);
  for (const entry of message.history ?? []) if (entry.revision !== null) revisions.push(entry.revision);
  return revisions;
}

/** Stores a health observation (a shape-B report or a non-Degraded shape-C state). */
export async function recordHealth(store: Store, message: HealthMessage, now: number): Promise<void> {
  await store.transaction(async (trx) => {
    // The revision's summary is read and written back: replicas take turns per app.
    await store.lockApp(trx, message.app);
    await insertReport(trx, { id: uuidv7(), app: message.app, revision: message.revision, status: message.status, source: 'health_report', eventId: null }, now);
  });
}

/**
 * One transaction, holding the app's lock (PostgreSQL: an advisory lock, so replicas take turns per app):
 * read what the store knows of the app, plan (pure, src/domain/rollback-plan.ts), write what the plan
 * says. The unique index on the rollback key settles a race between two identical requests; the read
 * only spares the common repeat a write.
 */
export async function recordRollback(
  store: Store,
  message: RollbackMessage,
  route: Route,
  context: { requestId: string | null; now: number; notify: boolean },
): Promise<RecordedRollback> {
  const { requestId, now, notify } = context;
  const key: RollbackKey = { owner: route.owner, repo: route.repo, app: message.app, failedRevision: message.failedRevision };
  const id = uuidv7();
  try {
    return await store.transaction(async (trx): Promise<RecordedRollback> => {
      await store.lockApp(trx, message.app);
      const existingId = await findRollbackId(trx, key);
      const facts: RollbackFacts = {
        failedRevision: message.failedRevision,
        requestedTarget: message.requestedTarget,
        history: message.history,
        reports: existingId === undefined ? await listPolicyReports(trx, message.app, policyRevisions(message)) : [],
        existingId,
        recentRollbacks: existingId === undefined ? await countRollbacksSince(trx, message.app, now - route.windowMinutes * 60_000) : 0,
        maxPerWindow: route.maxPerWindow,
        windowMinutes: route.windowMinutes,
        dryRun: route.dryRun,
        shape: message.shape,
        healthyGraceMs: route.healthyGraceMs,
        now,
        paused: existingId === undefined ? await findPause(trx, message.app) : undefined,
      };
      let plan: RollbackPlan = planRollback(facts);
      // Only a refusal needs to know whether it repeats an earlier one: the common path skips the query.
      if (plan.kind === 'suppressed') plan = planRollback({ ...facts, suppressedId: await findSuppressedId(trx, key) });
      if (plan.kind === 'duplicate') return plan;

      const news = { app: message.app, eventId: null, failedRevision: message.failedRevision, healthyRevision: null, link: null, at: now };
      if (plan.recordFailed) {
        // Recorded as what it came as: a Degraded health report (shapes B, C) or a rollback request (A).
        const source = message.shape === 'A' ? 'rollback_request' : 'health_report';
        const note = plan.kind === 'not_a_deploy' ? plan.reason : null;
        await insertReport(trx, { id: uuidv7(), app: message.app, revision: message.failedRevision, status: 'Degraded', source, eventId: plan.kind === 'not_a_deploy' ? null : id, note }, now);
      }
      // Not a rollback: keep the Degraded record (it is true), store no event.
      if (plan.kind === 'no_target') return { kind: 'no_target', reason: plan.reason };
      if (plan.kind === 'not_a_deploy') {
        if (plan.recordFailed) await enqueueNotification(trx, notify, { ...news, kind: 'not_a_deploy', reason: plan.reason });
        return { kind: 'not_a_deploy', reason: plan.reason, firstTime: plan.recordFailed };
      }
      if (plan.kind === 'suppressed' && plan.repeatOf !== undefined) return { kind: 'suppressed', id: plan.repeatOf, reason: plan.reason, repeat: true };

      const extras = route.valuesPaths ? { ...message.extras, values_paths: route.valuesPaths.join('\n') } : message.extras;
      const body = buildDispatchBody({
        eventType: message.eventType ?? route.eventType,
        app: message.app,
        failedRevision: message.failedRevision,
        healthyRevision: plan.target.revision,
        eventId: id,
        extras,
      });
      await insertEvent(
        trx,
        {
          id,
          app: message.app,
          failedRevision: message.failedRevision,
          healthyRevision: plan.target.revision,
          target: { owner: route.owner, repo: route.repo },
          eventType: body.event_type,
          dispatchBody: serializeDispatchBody(body),
          status: plan.kind === 'suppressed' ? 'suppressed' : plan.status,
          requestId,
          targetReason: plan.target.reason,
          suppressionReason: plan.kind === 'suppressed' ? plan.reason : null,
        },
        now,
      );
      if (plan.kind !== 'suppressed') await openDelivery(trx, id, { state: plan.status, now, newEvent: true });
      if (plan.kind === 'suppressed') {
        await enqueueNotification(trx, notify, { ...news, eventId: id, healthyRevision: plan.target.revision, kind: 'suppressed', reason: plan.reason });
        return { kind: 'suppressed', id, reason: plan.reason, repeat: false };
      }
      return { kind: 'accepted', id, status: plan.status, healthyRevision: plan.target.revision, targetReason: plan.target.reason, dispatch: { ...body } };
    });
  } catch (error) {
    // The loser of a race between two identical requests: the winner's row is committed.
    const existing = isUniqueViolation(error) ? await findRollbackId(store.db, key) : undefined;
    if (!existing) throw error;
    return { kind: 'duplicate', id: existing };
  }
}
