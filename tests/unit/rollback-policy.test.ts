import fc from 'fast-check';
import {
  checkLoopGuard,
  chooseTarget,
  decideRollback,
  healthyLedger,
  knownFailedReports,
  type HistoryEntry,
  type RevisionReport,
  type TargetDecision,
} from '../../src/domain/rollback-policy';

// Commits, oldest to newest.
const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);
const D = 'd'.repeat(40);
const T0 = Date.UTC(2026, 10, 29, 10, 0, 0);

let seq = 0;
function report(revision: string, status: string, minute: number, source: RevisionReport['source'] = 'health_report'): RevisionReport {
  seq += 1;
  return { revision, status, reportedAt: T0 + minute * 60_000, id: `r${String(seq).padStart(4, '0')}`, source };
}
const history = (...revisions: Array<string | null>): HistoryEntry[] => revisions.map((revision, i) => ({ id: i + 1, revision }));
const at = (minute: number) => new Date(T0 + minute * 60_000).toISOString();

describe('chooseTarget', () => {
  const cases: Array<{ name: string; failed: string; requested?: string; reports: RevisionReport[]; history?: HistoryEntry[]; expected: TargetDecision | RegExp }> = [
    {
      name: 'payload target given',
      failed: D,
      requested: B,
      reports: [report(C, 'Healthy', 1)],
      history: history(A, B, C, D),
      expected: { kind: 'target', target: { revision: B, reason: 'from payload' } },
    },
    {
      name: 'payload target known failed, ledger has a good one',
      failed: D,
      requested: C,
      reports: [report(B, 'Healthy', 1), report(C, 'Healthy', 2), report(C, 'Degraded', 3)],
      history: history(A, B, C, D),
      expected: { kind: 'target', target: { revision: B, reason: `from ledger, recorded ${at(1)}` } },
    },
    {
      name: 'payload target known failed and nothing else known',
      failed: D,
      requested: C,
      reports: [report(C, 'Degraded', 3, 'rollback_request')],
      expected: { kind: 'poisoned', revision: C, reason: `target ${C} was reported failed at ${at(3)} and no other healthy revision is known` },
    },
    {
      name: 'ledger newer than history',
      failed: D,
      reports: [report(C, 'Healthy', 5)],
      history: history(A, B, D),
      expected: { kind: 'target', target: { revision: C, reason: `from ledger, recorded ${at(5)}` } },
    },
    {
      name: 'ledger: the newest healthy revision wins',
      failed: D,
      reports: [report(A, 'Healthy', 1), report(C, 'Healthy', 3), report(B, 'Healthy', 2)],
      expected: { kind: 'target', target: { revision: C, reason: `from ledger, recorded ${at(3)}` } },
    },
    {
      name: 'ledger empty, history has earlier syncs',
      failed: D,
      reports: [],
      history: history(A, B, C, D),
      expected: { kind: 'target', target: { revision: C, reason: 'from history id 3' } },
    },
    {
      name: 'ledger only holds the failed revision, history helps',
      failed: D,
      reports: [report(D, 'Healthy', 1)],
      history: history(B, D),
      expected: { kind: 'target', target: { revision: B, reason: 'from history id 1' } },
    },
    {
      name: 'history with only the failed revision',
      failed: D,
      reports: [],
      history: history(D),
      expected: /history has 1 entry, all failed or equal to the failed revision/,
    },
    {
      name: 'history entries known failed are skipped',
      failed: D,
      reports: [report(C, 'Degraded', 1)],
      history: history(A, B, C, D),
      expected: { kind: 'target', target: { revision: B, reason: 'from history id 2' } },
    },
    { name: 'empty history', failed: D, reports: [], history: [], expected: /the payload named no healthy_revision; the ledger has 0 healthy revisions; history has 0 entries$/ },
    { name: 'missing history (first deploy)', failed: D, reports: [], expected: /the body carried no history$/ },
    {
      name: 'multi-source history: entries without a commit for the values source are skipped',
      failed: D,
      reports: [],
      history: [{ id: 1, revision: B }, { id: 2, revision: null }, { id: 3, revision: D }],
      expected: { kind: 'target', target: { revision: B, reason: 'from history id 1' } },
    },
    {
      name: 'abbreviated failed revision still excludes its full id',
      failed: D.slice(0, 7),
      reports: [report(D, 'Healthy', 2), report(B, 'Healthy', 1)],
      expected: { kind: 'target', target: { revision: B, reason: `from ledger, recorded ${at(1)}` } },
    },
    {
      name: 'flapping: Healthy, Degraded, Healthy again clears the revision',
      failed: D,
      reports: [report(C, 'Healthy', 1), report(C, 'Degraded', 2), report(C, 'Healthy', 3)],
      expected: { kind: 'target', target: { revision: C, reason: `from ledger, recorded ${at(3)}` } },
    },
    {
      name: 'flapping: Healthy then Degraded leaves the revision failed',
      failed: D,
      reports: [report(B, 'Healthy', 0), report(C, 'Healthy', 1), report(C, 'Degraded', 2), report(C, 'Healthy', 3), report(C, 'Degraded', 4)],
      expected: { kind: 'target', target: { revision: B, reason: `from ledger, recorded ${at(0)}` } },
    },
    {
      name: 'Progressing reports neither clear nor poison',
      failed: D,
      reports: [report(C, 'Healthy', 1), report(C, 'Degraded', 2), report(C, 'Progressing', 3)],
      history: history(B, C, D),
      expected: { kind: 'target', target: { revision: B, reason: 'from history id 1' } },
    },
  ];

  it.each(cases)('when $name', ({ failed, requested, reports, history: h, expected }) => {
    const decision = chooseTarget({ failedRevision: failed, requestedTarget: requested, reports, history: h });
    if (expected instanceof RegExp) {
      expect(decision.kind).toBe('none');
      expect(decision.kind === 'none' && decision.reason).toMatch(expected);
    } else {
      expect(decision).toEqual(expected);
    }
  });

  it('when one commit serves several apps (monorepo), then a failure reported by one app does not poison it for another', () => {
    // Reports are per app: app-b's Degraded report of C is not among app-a's reports.
    const appA = [report(C, 'Healthy', 1)];
    const appB = [report(C, 'Healthy', 1), report(C, 'Degraded', 2)];
    expect(chooseTarget({ failedRevision: D, reports: appA })).toMatchObject({ kind: 'target', target: { revision: C } });
    expect(chooseTarget({ failedRevision: D, reports: appB, history: history(B, C, D) })).toMatchObject({ kind: 'target', target: { revision: B } });
  });
});

describe('knownFailedReports and healthyLedger', () => {
  it('when a revision is Degraded with no later Healthy, then it is known failed, newest first', () => {
    const reports = [report(A, 'Degraded', 1), report(B, 'Degraded', 2, 'rollback_request'), report(A, 'Healthy', 3)];
    expect(knownFailedReports(reports).map((r) => r.revision)).toEqual([B]);
  });

  it('when reports share a millisecond, then their ids order them', () => {
    const degraded = { revision: A, status: 'Degraded', reportedAt: T0, id: 'r2', source: 'health_report' as const };
    const healthy = { revision: A, status: 'Healthy', reportedAt: T0, id: 'r1', source: 'health_report' as const };
    expect(knownFailedReports([degraded, healthy]).map((r) => r.revision)).toEqual([A]);
  });

  it('when every id has one length, then the known-failed set is what comparing every pair of ids gives (property)', () => {
    // The reference: each report joins the first entry naming the same commit, as the general path does.
    const reference = (reports: RevisionReport[]) => {
      const latest = new Map<string, RevisionReport>();
      for (const r of [...reports].sort((x, y) => x.reportedAt - y.reportedAt || (x.id < y.id ? -1 : 1))) {
        if (r.status !== 'Degraded' && r.status !== 'Healthy') continue;
        const key = [...latest.keys()].find((k) => k.startsWith(r.revision) || r.revision.startsWith(k)) ?? r.revision;
        if (r.status === 'Healthy') latest.delete(key);
        else latest.set(key, r);
      }
      return [...latest.values()].map((r) => r.id).sort();
    };
    const reportArb = fc.record({
      revision: fc.constantFrom(A, B, C, D),
      status: fc.constantFrom('Degraded', 'Healthy', 'Progressing'),
      minute: fc.integer({ min: 0, max: 5 }),
    });
    fc.assert(
      fc.property(fc.array(reportArb, { maxLength: 30 }), (given) => {
        const reports = given.map((g) => report(g.revision, g.status, g.minute));
        expect(knownFailedReports(reports).map((r) => r.id).sort()).toEqual(reference(reports));
      }),
    );
  });

  it('when an abbreviated id and the full id of one commit are both reported, then a later Healthy report for either clears it', () => {
    expect(knownFailedReports([report(A.slice(0, 7), 'Degraded', 1), report(A, 'Healthy', 2)])).toEqual([]);
    expect(knownFailedReports([report(A, 'Degraded', 1), report(A.slice(0, 7), 'Healthy', 2)])).toEqual([]);
    expect(knownFailedReports([report(A.slice(0, 7), 'Degraded', 1), report(B, 'Healthy', 2)]).map((r) => r.revision)).toEqual([A.slice(0, 7)]);
  });

  it('when a revision was reported Healthy twice, then the ledger lists it once, at its newest time', () => {
    const ledger = healthyLedger([report(A, 'Healthy', 1), report(B, 'Healthy', 2), report(A, 'Healthy', 3)]);
    expect(ledger.map((r) => [r.revision, r.reportedAt])).toEqual([
      [A, T0 + 3 * 60_000],
      [B, T0 + 2 * 60_000],
    ]);
  });
});

describe('loop guard', () => {
  it.each([
    [0, 3, undefined],
    [2, 3, undefined],
    [3, 3, 'loop guard: 3 rollbacks of this app in the last 60 minutes (at most 3)'],
    [5, 3, 'loop guard: 5 rollbacks of this app in the last 60 minutes (at most 3)'],
    [1, 1, 'loop guard: 1 rollback of this app in the last 60 minutes (at most 1)'],
  ])('when %i rollbacks happened and %i are allowed, then %p', (recentRollbacks, maxPerWindow, expected) => {
    expect(checkLoopGuard({ recentRollbacks, maxPerWindow, windowMinutes: 60 })).toBe(expected);
  });

  it('when the guard trips, then the decision is suppressed with the target it would have used', () => {
    expect(decideRollback({ failedRevision: D, requestedTarget: C, reports: [], recentRollbacks: 3, maxPerWindow: 3, windowMinutes: 60 })).toEqual({
      kind: 'suppressed',
      target: { revision: C, reason: 'from payload' },
      reason: 'loop guard: 3 rollbacks of this app in the last 60 minutes (at most 3)',
    });
  });

  it('when there is no target, then that is the answer whatever the guard says', () => {
    expect(decideRollback({ failedRevision: D, reports: [], recentRollbacks: 9, maxPerWindow: 3, windowMinutes: 60 })).toMatchObject({ kind: 'no_target' });
  });

  it('when the requested target is poisoned and nothing else is known, then it is suppressed, not sent', () => {
    const decision = decideRollback({ failedRevision: D, requestedTarget: C, reports: [report(C, 'Degraded', 1)], recentRollbacks: 0, maxPerWindow: 3, windowMinutes: 60 });
    expect(decision).toMatchObject({ kind: 'suppressed', target: { revision: C }, reason: expect.stringMatching(/was reported failed/) });
  });
});
