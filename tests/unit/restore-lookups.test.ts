import { pickPullRequest, pickRestoreCommit, pickRun } from '../../src/github/restore-lookups';

const EVENT = '01a22924-2c65-72ad-b62c-3a14d7baec82';
const run = (id: number, title: string, created: string, status = 'completed', conclusion: string | null = 'success') => ({
  id,
  display_title: title,
  status,
  conclusion,
  html_url: `https://github.com/acme/gitops/actions/runs/${id}`,
  created_at: created,
  updated_at: created,
});

describe('pickRun (GET /actions/runs)', () => {
  const DISPATCH = '01a22924-3000-7000-8000-000000000002';
  const EARLIER = '01a22924-3000-7000-8000-000000000001';
  /** This dispatch was answered at 10:00:00 (GitHub creates its run after that). */
  const dispatch = { eventId: EVENT, dispatchId: DISPATCH, sentAt: Date.parse('2026-11-29T10:00:00Z') };
  const titled = (dispatchId?: string) => `Roll back web (event ${EVENT}${dispatchId === undefined ? '' : `, dispatch ${dispatchId}`})`;
  it.each([
    ['no runs', { total_count: 0, workflow_runs: [] }, [], undefined],
    ['a run of another event', { workflow_runs: [run(1, 'Roll back web (event other, dispatch ' + DISPATCH + ')', '2026-11-29T10:00:01Z')] }, [], undefined],
    ['the run of this dispatch', { workflow_runs: [run(2, titled(DISPATCH), '2026-11-29T10:00:01Z', 'in_progress', null)] }, [], { id: '2', status: 'in_progress', conclusion: null }],
    ['only an earlier dispatch of the same event is listed (a replay whose run GitHub does not list yet)', { workflow_runs: [run(5, titled(EARLIER), '2026-11-29T10:00:30Z', 'completed', 'failure')] }, [], undefined],
    ['the earlier dispatch is newer in the list, this one is there too', { workflow_runs: [run(6, titled(EARLIER), '2026-11-29T10:00:30Z'), run(7, titled(DISPATCH), '2026-11-29T10:00:02Z', 'queued', null)] }, [], { id: '7', status: 'queued' }],
    ['a run named the old way (no dispatch id), created after this dispatch', { workflow_runs: [run(8, titled(), '2026-11-29T10:00:01Z', 'queued', null)] }, [], { id: '8' }],
    ['a run named the old way, created within the clock allowance before this dispatch', { workflow_runs: [run(9, titled(), '2026-11-29T09:59:56Z', 'queued', null)] }, [], { id: '9' }],
    ['a run named the old way, created before this dispatch (an earlier dispatch\'s)', { workflow_runs: [run(10, titled(), '2026-11-29T09:59:40Z', 'completed', 'cancelled')] }, [], undefined],
    [
      'a re-run after a cancelled one: the newest that was not cancelled-and-redispatched',
      { workflow_runs: [run(3, titled(DISPATCH), '2026-11-29T10:00:01Z', 'completed', 'cancelled'), run(4, titled(DISPATCH), '2026-11-29T10:05:00Z', 'queued', null)] },
      ['3'],
      { id: '4', status: 'queued' },
    ],
    ['only the cancelled one so far', { workflow_runs: [run(3, titled(DISPATCH), '2026-11-29T10:00:01Z', 'completed', 'cancelled')] }, ['3'], undefined],
    ['a body that is not GitHub\'s', { message: 'Not Found' }, [], undefined],
  ])('when %s, then %o', (_name, data, skip, expected) => {
    const found = pickRun(data, dispatch, skip);
    if (expected === undefined) expect(found).toBeUndefined();
    else expect(found).toMatchObject(expected);
  });
});

describe('pickRestoreCommit (GET /commits)', () => {
  const commit = (sha: string, message: string) => ({ sha, html_url: `https://github.com/acme/gitops/commit/${sha}`, commit: { message } });
  it.each([
    ['the trailer', [commit('a'.repeat(40), 'other'), commit('B'.repeat(40), `Roll back web to 123\n\nRollback-App: web\nRollback-Event: ${EVENT}`)], 'b'.repeat(40)],
    ['only a mention in the body, not a trailer line', [commit('c'.repeat(40), `see Rollback-Event: ${EVENT} elsewhere`)], undefined],
    ['another event\'s trailer', [commit('d'.repeat(40), 'Rollback-Event: 01a22924-0000-0000-0000-000000000000')], undefined],
    ['nothing', [], undefined],
  ])('when the commits have %s, then %s', (_name, data, sha) => {
    expect(pickRestoreCommit(data, EVENT)?.sha).toBe(sha);
  });
});

describe('pickPullRequest (GET /pulls?head=…)', () => {
  const pull = (state: string, merged: string | null, sha: string | null, ref = `gitops-rollback/${EVENT}`) => ({ html_url: 'https://github.com/acme/gitops/pull/7', state, merged_at: merged, merge_commit_sha: sha, head: { ref } });
  it.each([
    ['open', [pull('open', null, 'e'.repeat(40))], { state: 'open', mergedAt: null, mergeCommit: null }],
    ['merged', [pull('closed', '2026-11-29T10:10:00Z', 'E'.repeat(40))], { state: 'closed', mergedAt: Date.parse('2026-11-29T10:10:00Z'), mergeCommit: 'e'.repeat(40) }],
    ['closed unmerged', [pull('closed', null, 'f'.repeat(40))], { state: 'closed', mergedAt: null, mergeCommit: null }],
    ['another branch', [pull('open', null, null, 'feature/x')], undefined],
  ])('when the pull request is %s, then %o', (_name, data, expected) => {
    expect(pickPullRequest(data, EVENT)).toEqual(expected === undefined ? undefined : { url: 'https://github.com/acme/gitops/pull/7', ...expected });
  });
});
