import { decideRollback, type HistoryEntry, type LoopGuardInput, type RevisionReport, type TargetChoice } from './rollback-policy';

/**
 * What one rollback request does to the store, as a pure function of what the store holds for the app
 * (read under the app's lock). The transaction in src/rollback/record-rollback.ts reads these facts,
 * asks for the plan and writes exactly what it says.
 */
export interface RollbackFacts extends LoopGuardInput {
  failedRevision: string;
  /** `healthy_revision` from a shape-A payload. */
  requestedTarget?: string;
  /** Shape C: the application's sync history, oldest first. */
  history?: readonly HistoryEntry[];
  /** The app's newest reports, newest first. */
  reports: readonly RevisionReport[];
  /** The rollback already stored for (repository, app, failed revision), if any. */
  existingId?: string;
  /** The newest suppressed event for the same key, if any. */
  suppressedId?: string;
  dryRun: boolean;
  /** Shapes B and C are health reports; shape A is an explicit request, never subject to the grace. */
  shape: 'A' | 'B' | 'C';
  /** ROLLBACK_HEALTHY_GRACE_SECONDS (per route), in ms; 0 turns it off. */
  healthyGraceMs: number;
  now: number;
  /** The app's pause switch (POST /v1/apps/{app}/pause), if it is on. */
  paused?: { reason: string; by: string; since: number };
}

/**
 * `recordFailed`: store a Degraded report for the failed revision. False when the newest report of that
 * exact revision already says Degraded: Argo CD re-sends a refused request at every reconcile while the
 * app stays Degraded, and a repeat must not add a row each time.
 */
export type RollbackPlan =
  | { kind: 'duplicate'; id: string }
  | { kind: 'no_target'; reason: string; recordFailed: boolean }
  /** `repeatOf`: the same refusal is already stored as that event; store no new one. */
  | { kind: 'suppressed'; target: TargetChoice; reason: string; recordFailed: boolean; repeatOf?: string }
  | { kind: 'rollback'; target: TargetChoice; status: 'queued' | 'dry_run'; recordFailed: boolean }
  /** The revision was Healthy for longer than the grace: the app degraded while running it, no deploy broke it. */
  | { kind: 'not_a_deploy'; reason: string; recordFailed: boolean }
  /** Set by the caller once the restore plan (src/domain/restore-plan.ts) finds nothing in git to restore. */
  | { kind: 'not_restorable'; reason: string; recordFailed: boolean };

/** True when the newest report of exactly `revision` says Degraded (reports newest first). */
export function isRecordedDegraded(reports: readonly RevisionReport[], revision: string): boolean {
  return reports.find((r) => r.revision === revision)?.status === 'Degraded';
}

/**
 * The oldest Healthy report of `revision` since it was last reported Degraded (reports newest first):
 * how long the app has run it healthily.
 */
export function healthySince(reports: readonly RevisionReport[], revision: string): number | undefined {
  let since: number | undefined;
  for (const report of reports) {
    if (report.revision !== revision) continue;
    if (report.status === 'Degraded') break;
    if (report.status === 'Healthy') since = report.reportedAt;
  }
  return since;
}

export function planRollback(facts: RollbackFacts): RollbackPlan {
  if (facts.existingId !== undefined) return { kind: 'duplicate', id: facts.existingId };
  const recordFailed = !isRecordedDegraded(facts.reports, facts.failedRevision);
  if (facts.shape !== 'A' && facts.healthyGraceMs > 0) {
    // A re-send after the first refusal finds the Degraded report it left, so it is looked up before it.
    const latestDegraded = facts.reports.findIndex((r) => r.revision === facts.failedRevision && r.status === 'Degraded');
    const since = healthySince(recordFailed ? facts.reports : facts.reports.slice(latestDegraded + 1), facts.failedRevision);
    if (since !== undefined && facts.now - since > facts.healthyGraceMs) {
      const minutes = Math.round((facts.now - since) / 60_000);
      return {
        kind: 'not_a_deploy',
        recordFailed,
        reason: `${facts.failedRevision.slice(0, 12)} was reported Healthy since ${new Date(since).toISOString()} (${minutes} min, more than the ${Math.round(facts.healthyGraceMs / 1000)} s grace): the app degraded while running it, not because of a deploy; no rollback`,
      };
    }
  }
  const decision = decideRollback(facts);
  if (facts.paused && decision.kind !== 'no_target') {
    const { by, since, reason } = facts.paused;
    return { kind: 'suppressed', target: decision.target, reason: `app paused by ${by} since ${new Date(since).toISOString()}: ${reason}`, recordFailed, repeatOf: facts.suppressedId };
  }
  switch (decision.kind) {
    case 'no_target':
      return { kind: 'no_target', reason: decision.reason, recordFailed };
    case 'suppressed':
      return { kind: 'suppressed', target: decision.target, reason: decision.reason, recordFailed, repeatOf: facts.suppressedId };
    case 'rollback':
      return { kind: 'rollback', target: decision.target, status: facts.dryRun ? 'dry_run' : 'queued', recordFailed };
  }
}
