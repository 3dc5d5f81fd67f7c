import fc from 'fast-check';
import { healthySince, isRecordedDegraded, planRollback, type RollbackFacts } from '../../src/domain/rollback-plan';
import { healthyLedger, knownFailedReports, type RevisionReport } from '../../src/domain/rollback-policy';
import { summarizeRevision } from '../../src/domain/revision-summary';

const [A, B, C] = ['a'.repeat(40), 'b'.repeat(40), 'c'.repeat(40)] as [string, string, string];
const T0 = Date.UTC(2026, 11, 5, 9, 0, 0);

/** Reports in the order they arrive: time never goes back (equal times are told apart by the id). */
const historyArb = fc
  .array(fc.record({ revision: fc.constantFrom(A, B, C), status: fc.constantFrom('Healthy', 'Degraded', 'Progressing', 'Suspended'), step: fc.integer({ min: 0, max: 3 }) }), { maxLength: 40 })
  .map((entries) => {
    let at = T0;
    return entries.map(({ revision, status, step }, i): RevisionReport => {
      at += step * 60_000;
      return { revision, status, reportedAt: at, id: `r${String(i).padStart(3, '0')}`, source: 'health_report' };
    });
  });

const newestFirst = (reports: readonly RevisionReport[]) => [...reports].sort((a, b) => b.reportedAt - a.reportedAt || (a.id < b.id ? 1 : -1));
/** Each revision's summary, kept up to date one report at a time, as the store does. */
function folded(reports: readonly RevisionReport[]): Map<string, RevisionReport[]> {
  const summaries = new Map<string, RevisionReport[]>();
  for (const report of reports) summaries.set(report.revision, summarizeRevision([...(summaries.get(report.revision) ?? []), report]));
  return summaries;
}
const ids = (reports: readonly RevisionReport[]) => reports.map((r) => r.id);

describe('summarizeRevision', () => {
  it('when a revision was Healthy, Degraded twice and Healthy again, then the newest, the two Degraded reports and each spell’s oldest Healthy are kept', () => {
    const r = (id: string, status: string, minute: number): RevisionReport => ({ revision: A, status, reportedAt: T0 + minute * 60_000, id, source: 'health_report' });
    const all = [r('h1', 'Healthy', 0), r('h2', 'Healthy', 1), r('d1', 'Degraded', 2), r('h3', 'Healthy', 3), r('h4', 'Healthy', 4), r('d2', 'Degraded', 5), r('p1', 'Progressing', 6), r('h5', 'Healthy', 7), r('h6', 'Healthy', 8), r('p2', 'Progressing', 9)];
    expect(ids(summarizeRevision(all))).toEqual(['p2', 'h6', 'h5', 'd2', 'h3', 'd1']);
  });

  it('when the only Healthy report is older than the two latest Degraded ones, then it is kept for the ledger', () => {
    const r = (id: string, status: string, minute: number): RevisionReport => ({ revision: A, status, reportedAt: T0 + minute * 60_000, id, source: 'health_report' });
    expect(ids(summarizeRevision([r('h1', 'Healthy', 0), r('d1', 'Degraded', 1), r('d2', 'Degraded', 2), r('d3', 'Degraded', 3)]))).toEqual(['d3', 'd2', 'h1']);
    expect(summarizeRevision([])).toEqual([]);
  });

  it('when reports arrive one at a time, then the summary kept up to date is the summary of them all (property)', () => {
    fc.assert(
      fc.property(historyArb, (reports) => {
        for (const [revision, summary] of folded(reports)) {
          expect(ids(summary)).toEqual(ids(summarizeRevision(reports.filter((r) => r.revision === revision))));
        }
      }),
      { numRuns: 500 },
    );
  });

  it('when the policy reads the summaries instead of every report, then each answer and every plan is the same (property)', () => {
    const requestArb = fc.record({
      failed: fc.constantFrom(A, B, C),
      target: fc.option(fc.constantFrom(A, B, C), { nil: undefined }),
      history: fc.array(fc.constantFrom(A, B, C), { maxLength: 3 }),
      shape: fc.constantFrom<'A' | 'C'>('A', 'C'),
      graceMinutes: fc.constantFrom(0, 5, 30),
    });
    fc.assert(
      fc.property(historyArb, requestArb, (reports, request) => {
        const all = newestFirst(reports);
        const summary = newestFirst([...folded(reports).values()].flat());
        expect(ids(knownFailedReports(summary))).toEqual(ids(knownFailedReports(all)));
        expect(ids(healthyLedger(summary))).toEqual(ids(healthyLedger(all)));
        for (const revision of [A, B, C]) {
          expect(isRecordedDegraded(summary, revision)).toBe(isRecordedDegraded(all, revision));
          expect(healthySince(summary, revision)).toBe(healthySince(all, revision));
        }
        const facts = (given: RevisionReport[]): RollbackFacts => ({
          failedRevision: request.failed,
          requestedTarget: request.target === request.failed ? undefined : request.target,
          history: request.history.map((revision, i) => ({ id: i + 1, revision })),
          reports: given,
          recentRollbacks: 0,
          maxPerWindow: 3,
          windowMinutes: 60,
          dryRun: false,
          shape: request.shape,
          healthyGraceMs: request.graceMinutes * 60_000,
          now: (all[0]?.reportedAt ?? T0) + 60_000,
        });
        expect(planRollback(facts(summary))).toEqual(planRollback(facts(all)));
      }),
      { numRuns: 1000 },
    );
  });
});
