import { describeFailedStep, errorLineOf, knownCauseOf, missingWorkflowCause, parseWorkflows, pickFailedStep } from '../../src/domain/restore-failure';

const JOB_URL = 'https://github.com/acme/gitops/actions/runs/77/job/771';
const step = (number: number, name: string, conclusion: string | null) => ({ name, number, status: 'completed', conclusion });
const job = (id: number, conclusion: string | null, steps: unknown[]) => ({ id, name: 'restore', conclusion, html_url: `https://github.com/acme/gitops/actions/runs/77/job/${id}`, steps });

describe('pickFailedStep (GET /actions/runs/{id}/jobs)', () => {
  it.each([
    ['no jobs', { total_count: 0, jobs: [] }, undefined],
    ['a body that is not GitHub\'s', { message: 'Not Found' }, undefined],
    ['only successful jobs', { jobs: [job(771, 'success', [step(1, 'Set up job', 'success')])] }, undefined],
    [
      'a failed step: its name and a link to it in the log',
      { jobs: [job(771, 'failure', [step(1, 'Set up job', 'success'), step(2, 'Restore', 'failure'), step(3, 'Complete job', 'skipped')])] },
      { jobId: '771', job: 'restore', step: 'Restore', url: `${JOB_URL}#step:2:1` },
    ],
    ['a job that timed out before any step failed: the job page', { jobs: [job(771, 'timed_out', [step(1, 'Set up job', 'success')])] }, { jobId: '771', job: 'restore', step: null, url: JOB_URL }],
    [
      'a successful job beside a failed one: the failed one',
      { jobs: [job(770, 'success', []), job(771, 'failure', [step(1, 'Check out', 'failure')])] },
      { jobId: '771', job: 'restore', step: 'Check out', url: `${JOB_URL}#step:1:1` },
    ],
  ])('when %s, then %o', (_name, data, expected) => {
    expect(pickFailedStep(data)).toEqual(expected);
  });
});

describe('errorLineOf (a job log)', () => {
  it.each([
    ['empty', '', undefined],
    [
      "the script's own line wins over GitHub's exit-code line",
      '2026-12-06T10:00:01.1234567Z restore-values: charts/web/values-prod.yaml did not exist at the healthy revision 0a1b2c3d4e5f; refusing to guess what to restore\n2026-12-06T10:00:01.2000000Z ##[error]Process completed with exit code 1.',
      'restore-values: charts/web/values-prod.yaml did not exist at the healthy revision 0a1b2c3d4e5f; refusing to guess what to restore',
    ],
    ['success lines are not errors', '2026-12-06T10:00:01.1Z restore-values: pushed 0a1b2c3d4e5f restoring 1 path(s) to 0a1b2c3d4e5f\n2026-12-06T10:00:02.1Z ##[error]The runner has received a shutdown signal.', 'The runner has received a shutdown signal.'],
    ['a missing script (bash says so)', '2026-12-06T10:00:01.1Z bash: deploy/github/restore-values.sh: No such file or directory\n2026-12-06T10:00:01.2Z ##[error]Process completed with exit code 127.', 'bash: deploy/github/restore-values.sh: No such file or directory'],
    ['only the exit code', '2026-12-06T10:00:01.2Z ##[error]Process completed with exit code 2.', 'Process completed with exit code 2.'],
  ])('when %s, then %p', (_name, log, expected) => {
    expect(errorLineOf(log)).toBe(expected);
  });

  it('when a line is very long, then at most 300 characters are kept', () => {
    expect(errorLineOf(`##[error]${'x'.repeat(1000)}`)).toHaveLength(300);
  });
});

describe('knownCauseOf: each known cause is named with its remedy', () => {
  it.each([
    ['restore-values: nextjs/values.yaml did not exist at the healthy revision 0a1b2c3d4e5f; refusing to guess what to restore', 'a path to restore does not exist at the healthy revision', /values_paths or VALUES_PATHS/],
    ['restore-values: push to origin/main refused by branch protection (error: GH006: Protected branch update failed for refs/heads/main.): set ROLLBACK_MODE=pr, or let this token push', 'the push was refused by branch protection', /ROLLBACK_MODE=pr/],
    ['error: GH013: Repository rule violations found for refs/heads/main.', 'the push was refused by branch protection', /ROLLBACK_MODE=pr/],
    ['bash: deploy/github/restore-values.sh: No such file or directory', 'the restore script is missing from the GitOps repository', /copy deploy\/github\/restore-values\.sh/],
    ['restore-values: HEALTHY_REVISION is not a commit in this repository (is the clone shallow? use fetch-depth: 0)', 'the healthy revision is not in the clone', /fetch-depth: 0/],
    ['restore-values: the restored paths changed on main meanwhile and conflict with the restore; resolve by hand', 'the restored paths changed meanwhile and conflict with the restore', /git restore/],
    ['restore-values: gh cannot open the pull request (check GH_TOKEN, pull-requests: write, and that Actions may create pull requests)', 'GitHub Actions may not open or merge the pull request', /Allow GitHub Actions to create/],
  ])('when the log says %p, then %p', (line, name, remedy) => {
    const cause = knownCauseOf(line);
    expect(cause?.name).toBe(name);
    expect(cause?.remedy).toMatch(remedy);
  });

  it('when the line is not a known cause, then none is named', () => {
    expect(knownCauseOf('Process completed with exit code 2.')).toBeUndefined();
    expect(knownCauseOf(undefined)).toBeUndefined();
  });
});

describe('describeFailedStep', () => {
  it('when the cause is known, then job, step, the line and the remedy are said', () => {
    const text = describeFailedStep({ jobId: '1', job: 'restore', step: 'Restore', url: JOB_URL, errorLine: 'bash: deploy/github/restore-values.sh: No such file or directory' });
    expect(text).toBe('job "restore" failed at step "Restore": bash: deploy/github/restore-values.sh: No such file or directory — the restore script is missing from the GitOps repository; copy deploy/github/restore-values.sh from this project to deploy/github/restore-values.sh on the default branch of the GitOps repository');
  });

  it('when the log could not be read, then job and step are still said', () => {
    expect(describeFailedStep({ jobId: '1', job: 'restore', step: null, url: JOB_URL })).toBe('job "restore" failed');
  });
});

describe('missingWorkflowCause (GET /actions/workflows)', () => {
  it.each([
    ['the list could not be read', undefined, undefined],
    ['the workflow is there and active', [{ name: 'gitops-rollback', path: '.github/workflows/rollback.yml', state: 'active' }], undefined],
    ['renamed but at the shipped path', [{ name: 'rollback', path: '.github/workflows/rollback.yml', state: 'active' }], undefined],
    ['no workflows at all', [], /no gitops-rollback workflow \(its workflows: none\) — a missing workflow file; copy deploy\/github\/rollback\.yml/],
    ['other workflows only', [{ name: 'ci', path: '.github/workflows/ci.yml', state: 'active' }], /its workflows: \.github\/workflows\/ci\.yml/],
    ['disabled by hand', [{ name: 'gitops-rollback', path: '.github/workflows/rollback.yml', state: 'disabled_manually' }], /is disabled manually — enable it/],
  ])('when %s, then %p', (_name, workflows, expected) => {
    const cause = missingWorkflowCause(workflows);
    if (expected === undefined) expect(cause).toBeUndefined();
    else expect(cause).toMatch(expected);
  });

  it("parses GitHub's list, and refuses a body that is not one", () => {
    expect(parseWorkflows({ total_count: 1, workflows: [{ id: 1, name: 'gitops-rollback', path: '.github/workflows/rollback.yml', state: 'active' }] })).toEqual([{ name: 'gitops-rollback', path: '.github/workflows/rollback.yml', state: 'active' }]);
    expect(parseWorkflows({ message: 'Not Found' })).toBeUndefined();
  });
});
