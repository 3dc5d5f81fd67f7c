import { planRollback, type RollbackFacts, type RollbackPlan } from '../../src/domain/rollback-plan';
import type { RevisionReport } from '../../src/domain/rollback-policy';

const GOOD = 'a'.repeat(40);
const BAD = 'b'.repeat(40);
const T0 = Date.UTC(2026, 10, 29, 10, 0, 0);

let seq = 0;
/** Reports are listed newest first, as the store returns them. */
function reports(...entries: Array<[string, string]>): RevisionReport[] {
  return entries.map(([revision, status], i) => ({ revision, status, reportedAt: T0 - i * 60_000, id: `r${++seq}`, source: 'health_report' }));
}

const HOUR = 3_600_000;
const GRACE = 1_800_000;
const base: RollbackFacts = { failedRevision: BAD, reports: reports([GOOD, 'Healthy']), recentRollbacks: 0, maxPerWindow: 3, windowMinutes: 60, dryRun: false, shape: 'C', healthyGraceMs: GRACE, now: T0 };
/** A report `ago` ms before T0. */
const at = (revision: string, status: string, ago: number): RevisionReport => ({ revision, status, reportedAt: T0 - ago, id: `g${++seq}`, source: 'health_report' });

describe('planRollback', () => {
  const cases: Array<{ name: string; facts: Partial<RollbackFacts>; expected: RollbackPlan | Record<string, unknown> }> = [
    { name: 'a rollback already stored for the key', facts: { existingId: 'e1' }, expected: { kind: 'duplicate', id: 'e1' } },
    { name: 'a first report of the failed revision', facts: {}, expected: { kind: 'rollback', status: 'queued', recordFailed: true, target: { revision: GOOD } } },
    { name: 'dry run', facts: { dryRun: true }, expected: { kind: 'rollback', status: 'dry_run' } },
    { name: 'the failed revision already reported Degraded (a re-send)', facts: { reports: reports([BAD, 'Degraded'], [GOOD, 'Healthy']) }, expected: { kind: 'rollback', recordFailed: false } },
    { name: 'the failed revision was Degraded, then Healthy again', facts: { reports: reports([BAD, 'Healthy'], [BAD, 'Degraded'], [GOOD, 'Healthy']) }, expected: { kind: 'rollback', recordFailed: true } },
    { name: 'nothing to go back to', facts: { reports: [] }, expected: { kind: 'no_target', recordFailed: true, reason: expect.stringMatching(/^no healthy revision/) } },
    { name: 'nothing to go back to, re-sent', facts: { reports: reports([BAD, 'Degraded']) }, expected: { kind: 'no_target', recordFailed: false } },
    { name: 'the loop guard refuses a first time', facts: { recentRollbacks: 3 }, expected: { kind: 'suppressed', repeatOf: undefined, reason: expect.stringMatching(/^loop guard/) } },
    { name: 'the loop guard refuses a re-send', facts: { recentRollbacks: 3, suppressedId: 's1', reports: reports([BAD, 'Degraded'], [GOOD, 'Healthy']) }, expected: { kind: 'suppressed', repeatOf: 's1', recordFailed: false } },
    { name: 'the failed revision was Healthy for two hours (not a deploy)', facts: { reports: [at(BAD, 'Healthy', HOUR), at(BAD, 'Healthy', 2 * HOUR), at(GOOD, 'Healthy', 3 * HOUR)] }, expected: { kind: 'not_a_deploy', recordFailed: true, reason: expect.stringMatching(/^b{12} was reported Healthy since .* \(120 min, more than the 1800 s grace\)/) } },
    { name: 'a re-send of that Degraded report', facts: { reports: [at(BAD, 'Degraded', 1000), at(BAD, 'Healthy', 2 * HOUR), at(GOOD, 'Healthy', 3 * HOUR)] }, expected: { kind: 'not_a_deploy', recordFailed: false } },
    { name: 'the failed revision was Healthy for 10 minutes only (a deploy that broke late)', facts: { reports: [at(BAD, 'Healthy', 600_000), at(GOOD, 'Healthy', 3 * HOUR)] }, expected: { kind: 'rollback' } },
    { name: 'long healthy, but the grace is off', facts: { healthyGraceMs: 0, reports: [at(BAD, 'Healthy', 2 * HOUR), at(GOOD, 'Healthy', 3 * HOUR)] }, expected: { kind: 'rollback' } },
    { name: 'long healthy, but an explicit shape-A request', facts: { shape: 'A', reports: [at(BAD, 'Healthy', 2 * HOUR), at(GOOD, 'Healthy', 3 * HOUR)] }, expected: { kind: 'rollback' } },
    { name: 'Healthy long ago, Degraded since, Healthy again 5 minutes', facts: { reports: [at(BAD, 'Healthy', 300_000), at(BAD, 'Degraded', HOUR), at(BAD, 'Healthy', 3 * HOUR), at(GOOD, 'Healthy', 4 * HOUR)] }, expected: { kind: 'rollback' } },
    { name: 'a stored refusal, and the window now allows it', facts: { recentRollbacks: 2, suppressedId: 's1' }, expected: { kind: 'rollback', status: 'queued' } },
  ];

  it.each(cases)('when $name, then $expected.kind', ({ facts, expected }) => {
    expect(planRollback({ ...base, ...facts })).toMatchObject(expected);
  });
});
