import { decideOutcome, healthyReportQuery, type Observations, type OutcomeLimits, type OutcomeState } from '../../src/domain/outcome';

const T0 = Date.UTC(2026, 10, 29, 10, 0, 0);
const SEC = 1000;
const RESTORE = 'c'.repeat(40);
const limits: OutcomeLimits = { runLookupMs: 600 * SEC, verifyTimeoutMs: 1800 * SEC, maxRedispatch: 2, pollMs: 10 * SEC, pollMaxMs: 120 * SEC, branch: 'main', eventType: 'argo-degraded' };
const awaiting: OutcomeState = { outcome: 'awaiting_run', deliveredAt: T0, runId: null, runSeenOpenAt: null, runEndedAt: null, cancelledRuns: [], redispatches: 0, restoreCommit: null, pullRequestUrl: null, pollMs: 10 * SEC };
const run = (status: string, conclusion: string | null = null, id = '42') => ({ id, status, conclusion, url: `https://github.example/acme/gitops/actions/runs/${id}`, updatedAt: T0 + 60 * SEC });
const at = (seconds: number, rest: Omit<Observations, 'now'> = {}): Observations => ({ now: T0 + seconds * SEC, ...rest });

describe('decideOutcome', () => {
  const cases: Array<{ name: string; state?: Partial<OutcomeState>; seen: Observations; outcomes: string[]; expect?: Record<string, unknown> }> = [
    { name: 'no run yet, early', seen: at(20), outcomes: [], expect: { redispatch: false, nextCheckAt: T0 + 40 * SEC } },
    { name: 'no run after RUN_LOOKUP_SECONDS', seen: at(601), outcomes: ['run_missing'], expect: { nextCheckAt: null } },
    { name: 'no run after the lookup, GitHub refused the read', seen: at(601, { githubProblem: 'GitHub answered 403: Resource not accessible' }), outcomes: ['run_missing'] },
    { name: 'the run is queued', seen: at(20, { run: run('queued') }), outcomes: ['restoring'] },
    { name: 'the run succeeded with a restore commit', seen: at(90, { run: run('completed', 'success'), commit: { sha: RESTORE, url: 'https://github.example/c' } }), outcomes: ['restoring', 'restored'] },
    { name: 'restored and Healthy at the restore commit in the same look', seen: at(90, { run: run('completed', 'success'), commit: { sha: RESTORE, url: 'u' }, healthyReport: { id: 'r1', revision: RESTORE, reportedAt: T0 + 80 * SEC } }), outcomes: ['restoring', 'restored', 'verified'] },
    { name: 'the run succeeded with nothing to change', seen: at(90, { run: run('completed', 'success') }), outcomes: ['restoring', 'restored'], expect: { state: expect.objectContaining({ restoreCommit: null, runEndedAt: T0 }) } },
    // GitHub's updated_at (T0 + 60 s here) is on GitHub's clock: the end is bounded on ours instead.
    { name: 'the run is in progress: the look is noted', state: { outcome: 'restoring', runId: '42' }, seen: at(30, { run: run('in_progress') }), outcomes: [], expect: { state: expect.objectContaining({ runSeenOpenAt: T0 + 30 * SEC }) } },
    { name: 'the run ended after a look saw it running: it ended after that look', state: { outcome: 'restoring', runId: '42', runSeenOpenAt: T0 + 30 * SEC }, seen: at(90, { run: run('completed', 'success') }), outcomes: ['restored'], expect: { state: expect.objectContaining({ runEndedAt: T0 + 30 * SEC }) } },
    { name: 'a cancelled run is dispatched again: the next run is bounded afresh', state: { outcome: 'restoring', runId: '42', runSeenOpenAt: T0 + 30 * SEC }, seen: at(90, { run: run('completed', 'cancelled') }), outcomes: ['restoring'], expect: { state: expect.objectContaining({ runSeenOpenAt: null }) } },
    { name: 'pull-request mode, the pull request is open', state: { outcome: 'restoring', runId: '42' }, seen: at(90, { run: run('completed', 'success'), pullRequest: { url: 'https://github.example/pull/7', state: 'open', mergedAt: null, mergeCommit: null } }), outcomes: ['restoring'] },
    { name: 'pull-request mode, merged', state: { outcome: 'restoring', runId: '42', pullRequestUrl: 'https://github.example/pull/7' }, seen: at(300, { run: run('completed', 'success'), pullRequest: { url: 'https://github.example/pull/7', state: 'closed', mergedAt: T0, mergeCommit: RESTORE } }), outcomes: ['restored'], expect: { state: expect.objectContaining({ restoreCommit: RESTORE }) } },
    { name: 'pull-request mode, closed without merging', state: { outcome: 'restoring', runId: '42' }, seen: at(300, { run: run('completed', 'success'), pullRequest: { url: 'p', state: 'closed', mergedAt: null, mergeCommit: null } }), outcomes: ['restore_failed'] },
    { name: 'the run failed', seen: at(90, { run: run('completed', 'failure') }), outcomes: ['restoring', 'restore_failed'] },
    { name: 'the run timed out', state: { outcome: 'restoring', runId: '42' }, seen: at(700, { run: run('completed', 'timed_out') }), outcomes: ['restore_failed'] },
    { name: 'the run needs approval', state: { outcome: 'restoring', runId: '42' }, seen: at(700, { run: run('completed', 'action_required') }), outcomes: ['restore_failed'] },
    { name: 'the run was cancelled, first time', state: { outcome: 'restoring', runId: '42' }, seen: at(90, { run: run('completed', 'cancelled') }), outcomes: ['restoring'], expect: { redispatch: true, nextCheckAt: null, state: expect.objectContaining({ redispatches: 1, cancelledRuns: ['42'], runId: null }) } },
    { name: 'the run was cancelled, redispatches used up', state: { outcome: 'restoring', runId: '44', redispatches: 2, cancelledRuns: ['42', '43'] }, seen: at(90, { run: run('completed', 'cancelled', '44') }), outcomes: ['restore_failed'], expect: { redispatch: false } },
    { name: 'restored, Healthy report arrives', state: { outcome: 'restored', runId: '42', restoreCommit: RESTORE }, seen: at(200, { healthyReport: { id: 'r9', revision: RESTORE, reportedAt: T0 + 150 * SEC } }), outcomes: ['verified'], expect: { state: expect.objectContaining({ verifiedReportId: 'r9' }) } },
    { name: 'restored, no Healthy report within VERIFY_TIMEOUT_SECONDS', state: { outcome: 'restored', runId: '42', restoreCommit: RESTORE }, seen: at(1801), outcomes: ['unverified'] },
    { name: 'a pull request still open after VERIFY_TIMEOUT_SECONDS', state: { outcome: 'restoring', runId: '42', pullRequestUrl: 'p' }, seen: at(1801, { run: run('completed', 'success'), pullRequest: { url: 'p', state: 'open', mergedAt: null, mergeCommit: null } }), outcomes: ['unverified'] },
  ];

  it.each(cases)('when $name, then $outcomes', ({ state, seen, outcomes, expect: more }) => {
    const decision = decideOutcome({ ...awaiting, ...state }, seen, limits);
    expect(decision.changes.map((c) => c.outcome)).toEqual(outcomes);
    if (more) expect(decision).toMatchObject(more);
    for (const change of decision.changes) expect(change.reason.length).toBeGreaterThan(10);
  });

  it('when nothing changes, then the next look backs off, doubling up to OUTCOME_POLL_MAX_MS; progress resets it', () => {
    let state: OutcomeState = awaiting;
    const steps: number[] = [];
    for (let i = 0; i < 6; i++) {
      const decision = decideOutcome(state, at(10 + i), limits);
      steps.push(decision.state.pollMs);
      state = { ...state, pollMs: decision.state.pollMs };
    }
    expect(steps).toEqual([20_000, 40_000, 80_000, 120_000, 120_000, 120_000]);
    expect(decideOutcome(state, at(30, { run: run('queued') }), limits).state.pollMs).toBe(10_000);
  });

  it('when a dead end is reached, then its reason says what to check', () => {
    expect(decideOutcome(awaiting, at(601), limits).changes[0]!.reason).toMatch(/listening to repository_dispatch type argo-degraded, with Actions enabled/);
    expect(decideOutcome({ ...awaiting, outcome: 'restored', runId: '1', restoreCommit: RESTORE }, at(1801), limits).changes[0]!.reason).toMatch(/no Healthy report at the restore commit c{12}/);
  });

  it.each([
    [{ restoreCommit: RESTORE, runEndedAt: T0 + 5, deliveredAt: T0 }, { revision: RESTORE }],
    [{ restoreCommit: null, runEndedAt: T0 + 5, deliveredAt: T0 }, { after: T0 + 5 }],
  ])('when verifying %o, then the report looked for is %o', (state, query) => {
    expect(healthyReportQuery(state)).toEqual(query);
  });
});
