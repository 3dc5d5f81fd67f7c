import { v7 as uuidv7 } from 'uuid';
import type { Route } from '../config/routes';
import { buildDispatchBody, serializeDispatchBody } from '../domain/dispatch-body';
import { chartOnlyChange, healthyRevisionsFrom, parseRepoUrl, pathsPayload, planRestore, type RestorePlan, type RestoreTarget } from '../domain/restore-plan';
import type { StoredRestorePlan } from '../domain/rollback-event';
import { planRollback, type RollbackFacts, type RollbackPlan } from '../domain/rollback-plan';
import type { WebhookMessage } from '../domain/webhook-message';
import type { Store } from '../store/database';
import { openDelivery } from '../store/deliveries.repository';
import { findRollbackId, findSuppressedId, insertEvent, isUniqueViolation, type RollbackKey } from '../store/events.repository';
import { enqueueNotification, tellOnce } from '../store/notifications.repository';
import { insertReport, listPolicyReports, recordRefusal } from '../store/reports.repository';
import { readRollbackFacts } from '../store/rollback-facts.repository';

type RollbackMessage = Extract<WebhookMessage, { kind: 'rollback' }>;
type HealthMessage = Extract<WebhookMessage, { kind: 'health' }>;
type NotRestorableMessage = Extract<WebhookMessage, { kind: 'not_restorable' }>;
type NotDeployedMessage = Extract<WebhookMessage, { kind: 'not_deployed' }>;

/** The revision a refusal of an app Argo CD never deployed is kept under (there is none). */
export const NEVER_DEPLOYED = 'none';

/** One event the answer names: the rollback's (first) and one per further repository. */
export interface StoredTarget {
  id: string;
  repository: string;
  from: RestoreTarget['from'];
  paths: string[];
}

/** The plan that was carried out, with the id of the event it stored or refers to. */
export type RecordedRollback =
  | { kind: 'duplicate'; id: string }
  | { kind: 'no_target'; reason: string; firstTime: boolean }
  | { kind: 'not_a_deploy'; reason: string; firstTime: boolean }
  | { kind: 'not_restorable'; reason: string; firstTime: boolean }
  | { kind: 'suppressed'; id: string; reason: string; repeat: boolean }
  | {
      kind: 'accepted';
      id: string;
      status: 'queued' | 'dry_run';
      healthyRevision: string;
      targetReason: string;
      /** The first event's dispatch (dry-run logs show every one). */
      dispatch: Record<string, unknown>;
      targets: StoredTarget[];
      dispatches: Array<{ repository: string; body: Record<string, unknown> }>;
    };

/** The revisions the policy weighs for this request: the failed one, the requested target, the history's. */
function policyRevisions(message: RollbackMessage): string[] {
  const revisions = [message.failedRevision];
  if (message.requestedTarget !== undefined) revisions.push(message.requestedTarget);
  for (const entry of message.history ?? []) if (entry.revision !== null) revisions.push(entry.revision);
  return revisions;
}

/**
 * A Degraded report that can roll nothing back and is not its revision's fault: an app that renders only
 * charts from chart repositories (a chart version changed), or one Argo CD never deployed. Kept as a
 * refusal (recordRefusal: on the app page, /v1/apps, the overview); people are told once per (app,
 * revision), not per re-send. True when they were told now. Other health states record nothing.
 */
export async function recordNotRestorable(store: Store, message: NotRestorableMessage | NotDeployedMessage, context: { now: number; notify: boolean }): Promise<boolean> {
  if (message.kind === 'not_restorable' && message.health !== 'Degraded') return false;
  const revision = message.kind === 'not_restorable' ? message.revision : NEVER_DEPLOYED;
  return store.transaction(async (trx) => {
    await store.lockApp(trx, message.app);
    await recordRefusal(trx, { id: uuidv7(), app: message.app, revision, reason: message.reason }, context.now);
    if (!context.notify || !(await tellOnce(trx, { app: message.app, kind: message.kind, subject: revision, at: context.now }))) return false;
    await enqueueNotification(trx, true, { kind: message.kind, app: message.app, eventId: null, failedRevision: revision, healthyRevision: null, reason: message.reason, link: null, at: context.now });
    return true;
  });
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
  context: { requestId: string | null; now: number; notify: boolean; githubHosts?: readonly string[] },
): Promise<RecordedRollback> {
  const { requestId, now, notify } = context;
  const hosts = context.githubHosts ?? ['github.com'];
  // The rollback is keyed on the repository of the source its revision belongs to (a route's
  // values_paths, or a body without sources: the route's repository).
  const keySource = route.valuesPathsFrom === 'route' ? undefined : message.sources?.[message.sourceIndex ?? 0];
  const keyRepo = keySource && !keySource.chart ? parseRepoUrl(keySource.repoURL, hosts) : undefined;
  const keyTarget = keyRepo && 'owner' in keyRepo ? keyRepo : { owner: route.owner, repo: route.repo };
  const key: RollbackKey = { ...keyTarget, app: message.app, failedRevision: message.failedRevision };
  const otherKeys: RollbackKey[] = [];
  const id = uuidv7();
  try {
    return await store.transaction(async (trx): Promise<RecordedRollback> => {
      await store.lockApp(trx, message.app);
      const known = await readRollbackFacts(trx, key, now - route.windowMinutes * 60_000);
      const { existingId } = known;
      const facts: RollbackFacts = {
        failedRevision: message.failedRevision,
        requestedTarget: message.requestedTarget,
        history: message.history,
        reports: existingId === undefined ? await listPolicyReports(trx, message.app, policyRevisions(message), undefined, known.idLengths) : [],
        existingId,
        recentRollbacks: existingId === undefined ? known.recentRollbacks : 0,
        maxPerWindow: route.maxPerWindow,
        windowMinutes: route.windowMinutes,
        dryRun: route.dryRun,
        shape: message.shape,
        healthyGraceMs: route.healthyGraceMs,
        now,
        paused: existingId === undefined ? known.paused : undefined,
      };
      if (existingId !== undefined) return { kind: 'duplicate', id: existingId };
      const chartOnly = chartOnlyChange(message);
      if (chartOnly !== undefined) {
        // Not the git revision's fault: no Degraded report for it (it would poison a good commit), a refusal.
        await recordRefusal(trx, { id: uuidv7(), app: message.app, revision: message.failedRevision, reason: chartOnly }, now);
        const firstTime = notify && (await tellOnce(trx, { app: message.app, kind: 'not_restorable', subject: (message.failedRevisions ?? []).join(','), at: now }));
        if (firstTime) await enqueueNotification(trx, true, { kind: 'not_restorable', app: message.app, eventId: null, failedRevision: (message.failedRevisions ?? []).join(','), healthyRevision: null, reason: chartOnly, link: null, at: now });
        return { kind: 'not_restorable', reason: chartOnly, firstTime };
      }
      let plan: RollbackPlan = planRollback(facts);
      // Only a refusal needs to know whether it repeats an earlier one: the common path skips the query.
      if (plan.kind === 'suppressed') plan = planRollback({ ...facts, suppressedId: await findSuppressedId(trx, key) });
      if (plan.kind === 'duplicate') return plan;
      let restore: RestorePlan | undefined;
      if (plan.kind === 'rollback' || plan.kind === 'suppressed') {
        restore = planRestore({
          app: message.app,
          sources: message.sources,
          failedRevisions: message.failedRevisions,
          healthyRevisions: healthyRevisionsFrom(message.history, plan.target.revision),
          sourceIndex: message.sourceIndex ?? 0,
          healthyRevision: plan.target.revision,
          route: { owner: route.owner, repo: route.repo, pattern: route.matched, valuesPaths: route.valuesPaths, valuesPathsFrom: route.valuesPathsFrom },
          githubHosts: hosts,
        });
        // The first target may live elsewhere than the key's repository: a repeat is looked up there too.
        const first = restore.kind === 'restore' ? restore.targets[0] : undefined;
        if (first && (first.owner !== key.owner || first.repo !== key.repo)) {
          const other = { ...key, owner: first.owner, repo: first.repo };
          otherKeys.push(other);
          const found = await findRollbackId(trx, other);
          if (found !== undefined) return { kind: 'duplicate', id: found };
        }
      }
      if (plan.kind === 'rollback' && restore?.kind === 'not_restorable') {
        plan = { kind: 'not_restorable', reason: restore.reason, recordFailed: plan.recordFailed };
      }

      const news = { app: message.app, eventId: null, failedRevision: message.failedRevision, healthyRevision: null, link: null, at: now };
      if (plan.recordFailed) {
        // Recorded as what it came as: a Degraded health report (shapes B, C) or a rollback request (A).
        const source = message.shape === 'A' ? 'rollback_request' : 'health_report';
        const noEvent = plan.kind === 'not_a_deploy' || plan.kind === 'not_restorable' || plan.kind === 'no_target';
        // Why this Degraded report rolled nothing back: shown on the app, in /v1/apps, on the status page.
        const note = plan.kind === 'not_a_deploy' || plan.kind === 'not_restorable' || plan.kind === 'no_target' ? plan.reason : null;
        await insertReport(trx, { id: uuidv7(), app: message.app, revision: message.failedRevision, status: 'Degraded', source, eventId: noEvent ? null : id, note }, now);
      }
      // Not a rollback: keep the Degraded record (it is true), store no event.
      if (plan.kind === 'no_target') {
        // Told once per Degraded spell: the first report of this failed revision, not each re-send.
        if (plan.recordFailed) await enqueueNotification(trx, notify, { ...news, kind: 'no_target', reason: plan.reason });
        return { kind: 'no_target', reason: plan.reason, firstTime: plan.recordFailed };
      }
      if (plan.kind === 'not_a_deploy') {
        if (plan.recordFailed) await enqueueNotification(trx, notify, { ...news, kind: 'not_a_deploy', reason: plan.reason });
        return { kind: 'not_a_deploy', reason: plan.reason, firstTime: plan.recordFailed };
      }
      if (plan.kind === 'not_restorable') {
        if (plan.recordFailed) await enqueueNotification(trx, notify, { ...news, kind: 'not_restorable', reason: plan.reason });
        return { kind: 'not_restorable', reason: plan.reason, firstTime: plan.recordFailed };
      }
      if (plan.kind === 'suppressed' && plan.repeatOf !== undefined) return { kind: 'suppressed', id: plan.repeatOf, reason: plan.reason, repeat: true };

      // One event per repository (a refusal is stored once, against the first).
      const restoreTargets: RestoreTarget[] =
        restore?.kind === 'restore' ? restore.targets : [{ owner: key.owner, repo: key.repo, healthyRevision: plan.target.revision, from: 'workflow default', paths: [] }];
      const stored = (plan.kind === 'suppressed' ? restoreTargets.slice(0, 1) : restoreTargets).map((target, i) => ({ target, id: i === 0 ? id : uuidv7() }));
      const notes = restore?.kind === 'restore' ? restore.notes : [];
      const dispatches: Array<{ repository: string; body: Record<string, unknown> }> = [];
      for (const { target, id: eventId } of stored) {
        const body = buildDispatchBody({
          eventType: message.eventType ?? route.eventType,
          app: message.app,
          failedRevision: message.failedRevision,
          healthyRevision: target.healthyRevision,
          eventId,
          extras: { ...message.extras, ...pathsPayload(target) },
        });
        const restorePlan: StoredRestorePlan = {
          target,
          notes,
          siblings: stored.filter((s) => s.id !== eventId).map((s) => ({ id: s.id, repository: `${s.target.owner}/${s.target.repo}` })),
        };
        await insertEvent(
          trx,
          {
            id: eventId,
            app: message.app,
            failedRevision: message.failedRevision,
            healthyRevision: target.healthyRevision,
            target: { owner: target.owner, repo: target.repo },
            eventType: body.event_type,
            dispatchBody: serializeDispatchBody(body),
            status: plan.kind === 'suppressed' ? 'suppressed' : plan.status,
            requestId,
            targetReason: plan.target.reason,
            suppressionReason: plan.kind === 'suppressed' ? plan.reason : null,
            restorePlan,
          },
          now,
        );
        if (plan.kind !== 'suppressed') await openDelivery(trx, eventId, { state: plan.status, now, newEvent: true });
        dispatches.push({ repository: `${target.owner}/${target.repo}`, body: { ...body } });
      }
      if (plan.kind === 'suppressed') {
        await enqueueNotification(trx, notify, { ...news, eventId: id, healthyRevision: plan.target.revision, kind: 'suppressed', reason: plan.reason });
        return { kind: 'suppressed', id, reason: plan.reason, repeat: false };
      }
      return {
        kind: 'accepted',
        id,
        status: plan.status,
        healthyRevision: plan.target.revision,
        targetReason: plan.target.reason,
        dispatch: dispatches[0]!.body,
        dispatches,
        targets: stored.map(({ target, id: eventId }) => ({ id: eventId, repository: `${target.owner}/${target.repo}`, from: target.from, paths: target.paths.map((p) => p.path) })),
      };
    });
  } catch (error) {
    // The loser of a race between two identical requests: the winner's row is committed.
    let existing: string | undefined;
    if (isUniqueViolation(error)) for (const k of [key, ...otherKeys]) existing ??= await findRollbackId(store.db, k);
    if (!existing) throw error;
    return { kind: 'duplicate', id: existing };
  }
}
