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
  | { kind: 'rollback'; target: TargetChoice; status: 'queued' | 'dry_run'; recordFailed: boolean };

/** True when the newest report of exactly `revision` says Degraded (reports newest first). */
export function isRecordedDegraded(reports: readonly RevisionReport[], revision: string): boolean {
  return reports.find((r) => r.revision === revision)?.status === 'Degraded';
}

export function planRollback(facts: RollbackFacts): RollbackPlan {
  if (facts.existingId !== undefined) return { kind: 'duplicate', id: facts.existingId };
  const recordFailed = !isRecordedDegraded(facts.reports, facts.failedRevision);
  const decision = decideRollback(facts);
  switch (decision.kind) {
    case 'no_target':
      return { kind: 'no_target', reason: decision.reason, recordFailed };
    case 'suppressed':
      return { kind: 'suppressed', target: decision.target, reason: decision.reason, recordFailed, repeatOf: facts.suppressedId };
    case 'rollback':
      return { kind: 'rollback', target: decision.target, status: facts.dryRun ? 'dry_run' : 'queued', recordFailed };
  }
}
