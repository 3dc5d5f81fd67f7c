/**
 * The rollback decision, as pure functions of what is known about an app and `now`:
 * which revision to go back to, and whether the loop guard lets the rollback through.
 */

/** One observation of a revision's health for an app (a health report or a rollback request). */
export interface RevisionReport {
  revision: string;
  /** Argo CD health status; rollback requests count as `Degraded`. */
  status: string;
  reportedAt: number;
  /** Breaks ties between reports in the same millisecond (time-ordered ids). */
  id: string;
  /** refusal: a Degraded report kept only to say why nothing rolled back; its status (Refused) is never weighed. */
  source: 'health_report' | 'rollback_request' | 'refusal';
  /** Why a Degraded report did not roll back, when that has a reason of its own. */
  note?: string | null;
}

/** One entry of an Argo CD Application's status.history (oldest first, successful syncs only). */
export interface HistoryEntry {
  id: number | null;
  revision: string | null;
  /** Every source's revision (multi-source apps), lower case; undefined when the body did not send them. */
  revisions?: string[];
}

export interface TargetChoice {
  revision: string;
  reason: string;
}

const FULL_COMMIT = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/** True when two commit ids name the same commit, allowing one of them to be abbreviated. */
export function sameCommit(a: string, b: string): boolean {
  return a.startsWith(b) || b.startsWith(a);
}

/** Oldest first: by time, then by id (time-ordered ids break ties within a millisecond). */
export function byTime(a: RevisionReport, b: RevisionReport): number {
  return a.reportedAt - b.reportedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * A revision is known failed when it was reported Degraded (or named as the failed revision of a
 * rollback request) and no Healthy report for it came later.
 */
export function knownFailedReports(reports: readonly RevisionReport[]): RevisionReport[] {
  const latest = new Map<string, RevisionReport>();
  // When every id has one length (the rule: Argo CD sends full ids), two ids name one commit only when
  // they are equal, and the entry is found by its key instead of by comparing with every entry.
  const oneLength = reports.every((r) => r.revision.length === reports[0]!.revision.length);
  for (const report of [...reports].sort(byTime)) {
    if (report.status !== 'Degraded' && report.status !== 'Healthy') continue;
    // Abbreviated and full ids of one commit share an entry: a later Healthy report for either clears it.
    const key = oneLength ? report.revision : ([...latest.keys()].find((k) => sameCommit(k, report.revision)) ?? report.revision);
    if (report.status === 'Healthy') latest.delete(key);
    else latest.set(key, report);
  }
  return [...latest.values()].sort((a, b) => byTime(b, a));
}

/** Healthy reports, newest first, one per revision. */
export function healthyLedger(reports: readonly RevisionReport[]): RevisionReport[] {
  const newest = new Map<string, RevisionReport>();
  for (const report of [...reports].sort((a, b) => byTime(b, a))) {
    if (report.status === 'Healthy' && !newest.has(report.revision)) newest.set(report.revision, report);
  }
  return [...newest.values()];
}

export type TargetDecision =
  | { kind: 'target'; target: TargetChoice }
  | { kind: 'poisoned'; revision: string; reason: string }
  | { kind: 'none'; reason: string };

export interface TargetInput {
  failedRevision: string;
  /** `healthy_revision` from the payload (shape A), if any. */
  requestedTarget?: string;
  reports: readonly RevisionReport[];
  /** Argo CD history (shape C), oldest first; undefined when the body carried none. */
  history?: readonly HistoryEntry[];
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Target choice: the payload's revision unless it is known failed; else the newest ledger revision that
 * is not known failed and differs from the failed one; else the newest history revision under the same
 * conditions. A requested target that is known failed, with nothing else to go back to, is "poisoned".
 */
export function chooseTarget(input: TargetInput): TargetDecision {
  const { failedRevision, requestedTarget, reports, history } = input;
  const failedReports = knownFailedReports(reports);
  const unusable = (revision: string) => sameCommit(revision, failedRevision) || failedReports.some((r) => sameCommit(r.revision, revision));

  let poisoned: RevisionReport | undefined;
  if (requestedTarget !== undefined) {
    poisoned = failedReports.find((r) => sameCommit(r.revision, requestedTarget));
    if (!poisoned) return { kind: 'target', target: { revision: requestedTarget, reason: 'from payload' } };
  }

  const ledger = healthyLedger(reports);
  const fromLedger = ledger.find((r) => FULL_COMMIT.test(r.revision) && !unusable(r.revision));
  if (fromLedger) {
    return { kind: 'target', target: { revision: fromLedger.revision, reason: `from ledger, recorded ${iso(fromLedger.reportedAt)}` } };
  }

  const newestFirst = [...(history ?? [])].reverse();
  const fromHistory = newestFirst.find((h) => h.revision !== null && FULL_COMMIT.test(h.revision) && !unusable(h.revision));
  if (fromHistory?.revision) {
    return { kind: 'target', target: { revision: fromHistory.revision, reason: `from history id ${fromHistory.id ?? '?'}` } };
  }

  if (poisoned && requestedTarget !== undefined) {
    return {
      kind: 'poisoned',
      revision: requestedTarget,
      reason: `target ${requestedTarget} was reported failed at ${iso(poisoned.reportedAt)} and no other healthy revision is known`,
    };
  }
  const looked = [
    requestedTarget === undefined ? 'the payload named no healthy_revision' : undefined,
    `the ledger has ${ledger.length} healthy revision${ledger.length === 1 ? '' : 's'}${ledger.length > 0 ? ', all failed or equal to the failed revision' : ''}`,
    history === undefined
      ? 'the body carried no history'
      : `history has ${history.length} entr${history.length === 1 ? 'y' : 'ies'}${history.length > 0 ? ', all failed or equal to the failed revision' : ''}`,
  ].filter(Boolean);
  return { kind: 'none', reason: `no healthy revision to roll back to from ${failedRevision}: ${looked.join('; ')}` };
}

export interface LoopGuardInput {
  /** Rollbacks of this app (not suppressed) created since now - window. */
  recentRollbacks: number;
  maxPerWindow: number;
  windowMinutes: number;
}

/** Returns the refusal reason when the app already had its allowance of rollbacks in the window. */
export function checkLoopGuard({ recentRollbacks, maxPerWindow, windowMinutes }: LoopGuardInput): string | undefined {
  if (recentRollbacks < maxPerWindow) return undefined;
  return `loop guard: ${recentRollbacks} rollback${recentRollbacks === 1 ? '' : 's'} of this app in the last ${windowMinutes} minutes (at most ${maxPerWindow})`;
}

export type RollbackDecision =
  | { kind: 'rollback'; target: TargetChoice }
  | { kind: 'suppressed'; target: TargetChoice; reason: string }
  | { kind: 'no_target'; reason: string };

/** The whole decision: target first (a request with no target is not a rollback), then the loop guard. */
export function decideRollback(input: TargetInput & LoopGuardInput): RollbackDecision {
  const choice = chooseTarget(input);
  if (choice.kind === 'none') return { kind: 'no_target', reason: choice.reason };
  if (choice.kind === 'poisoned') {
    return { kind: 'suppressed', target: { revision: choice.revision, reason: 'from payload' }, reason: choice.reason };
  }
  const guard = checkLoopGuard(input);
  return guard ? { kind: 'suppressed', target: choice.target, reason: guard } : { kind: 'rollback', target: choice.target };
}
