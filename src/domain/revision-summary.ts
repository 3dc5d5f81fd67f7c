import { byTime, type RevisionReport } from './rollback-policy';

/**
 * The few reports of one revision that answer every question the rollback policy asks of it, whatever
 * its history: the newest report (is it recorded Degraded now), the newest Healthy one (the ledger), the
 * latest two Degraded ones, and the oldest Healthy report of each of the two spells they bound (how long
 * it ran healthily before it failed, now and the time before). Given the summary of a revision's earlier
 * reports plus a newer report, it returns what it returns for every report: the store keeps one row per
 * (app, revision) up to date with it, so a decision reads a few rows instead of the app's history.
 *
 * `reports` are all of one revision, in any order; the answer is newest first.
 */
export function summarizeRevision(reports: readonly RevisionReport[]): RevisionReport[] {
  const newestFirst = [...reports].sort((a, b) => byTime(b, a));
  const kept = new Set<RevisionReport>(newestFirst.slice(0, 1));
  let newestHealthy: RevisionReport | undefined;
  let degraded = 0;
  // The oldest Healthy report seen since the last Degraded one, while inside the two spells that count.
  let oldestInSpell: RevisionReport | undefined;
  for (const report of newestFirst) {
    if (report.status === 'Healthy') {
      newestHealthy ??= report;
      if (degraded < 2) oldestInSpell = report;
    } else if (report.status === 'Degraded') {
      if (degraded === 2) {
        if (newestHealthy) break;
        continue;
      }
      if (oldestInSpell) kept.add(oldestInSpell);
      oldestInSpell = undefined;
      kept.add(report);
      degraded++;
    }
  }
  if (oldestInSpell) kept.add(oldestInSpell);
  if (newestHealthy) kept.add(newestHealthy);
  return [...kept].sort((a, b) => byTime(b, a));
}

/**
 * Whether a revision is known failed, from its summary: the newest of its Healthy and Degraded reports
 * is Degraded (what knownFailedReports says of its reports; the summary keeps both newest ones).
 */
export function isKnownFailed(summary: readonly RevisionReport[]): boolean {
  const weighed = summary.filter((r) => r.status === 'Healthy' || r.status === 'Degraded').sort((a, b) => byTime(b, a));
  return weighed[0]?.status === 'Degraded';
}
