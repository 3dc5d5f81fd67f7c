import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMMON, DEFAULT_PATH, GitOpsRepo, PROD, git, runRestore } from '../support/gitops-repo';

describe('deploy/github/restore-values.sh on real git', () => {
  let repo: GitOpsRepo;
  beforeEach(() => {
    repo = new GitOpsRepo();
  });
  afterEach(() => repo.remove());

  const commitsOnMain = () => Number(git(repo.origin, 'rev-list', '--count', 'main'));

  it('when run with a healthy revision, then it restores the file and pushes one commit naming both revisions', () => {
    const { healthy, failed } = repo.commits;
    const result = runRestore(repo.clone(), { HEALTHY_REVISION: healthy, FAILED_REVISION: failed, VALUES_PATHS: PROD });
    expect(result).toMatchObject({ status: 0, stderr: '' });
    expect(result.stdout).toMatch(/^restore-values: pushed [0-9a-f]{12} restoring 1 file\(s\) to /);
    expect(repo.show(PROD)).toBe(repo.show(PROD, healthy));
    expect(repo.show(COMMON)).toBe(repo.show(COMMON, failed)); // only the named file
    expect(commitsOnMain()).toBe(4);
    const message = git(repo.origin, 'log', '-1', '--format=%B', 'main');
    expect(message).toContain(`Healthy-Revision: ${healthy}`);
    expect(message).toContain(`Failed-Revision: ${failed}`);
  });

  it('when run a second time, then it exits 0 and adds no commit', () => {
    const env = { HEALTHY_REVISION: repo.commits.healthy, VALUES_PATHS: PROD };
    expect(runRestore(repo.clone(), env).status).toBe(0);
    const head = repo.mainHead();
    const again = runRestore(repo.clone(), env);
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/already identical/);
    expect(repo.mainHead()).toBe(head);
  });

  it('when several paths are given (newline- or space-separated), then all are restored in one commit', () => {
    const { healthy, early } = repo.commits;
    const result = runRestore(repo.clone(), { HEALTHY_REVISION: healthy, VALUES_PATHS: `${PROD}\n${COMMON} ${DEFAULT_PATH}` });
    expect(result.status).toBe(0);
    expect(commitsOnMain()).toBe(4);
    expect(repo.show(PROD)).toBe(repo.show(PROD, healthy));
    expect(repo.show(COMMON)).toBe(repo.show(COMMON, early));
    expect(repo.show(DEFAULT_PATH)).toBe(repo.show(DEFAULT_PATH, healthy));
    expect(git(repo.origin, 'diff', '--name-only', 'main~1', 'main').split('\n').sort()).toEqual([COMMON, PROD, DEFAULT_PATH].sort());
  });

  it('when VALUES_PATHS is not set, then nextjs/values.yaml is restored', () => {
    expect(runRestore(repo.clone(), { HEALTHY_REVISION: repo.commits.healthy }).status).toBe(0);
    expect(repo.show(DEFAULT_PATH)).toBe('image: web:2');
  });

  it('when someone pushes to main meanwhile, then the restore is rebased over it and the push succeeds', () => {
    const work = repo.clone();
    const other = repo.clone();
    repo.write(other, { 'docs/notes.md': 'unrelated change\n' });
    const theirs = repo.commit(other, 'unrelated change');
    repo.beforeFirstPush(work, `git -C '${other}' push --quiet origin main`);

    const result = runRestore(work, { HEALTHY_REVISION: repo.commits.healthy, VALUES_PATHS: PROD });
    expect(result.status).toBe(0);
    expect(git(repo.origin, 'rev-parse', 'main~1')).toBe(theirs);
    expect(repo.show(PROD)).toBe(repo.show(PROD, repo.commits.healthy));
    expect(repo.show('docs/notes.md')).toBe('unrelated change');
  });

  it('when the same file changed on main meanwhile, then it stops with a one-line reason instead of overwriting', () => {
    const work = repo.clone();
    const other = repo.clone();
    repo.write(other, { [PROD]: 'image: 6.9.2-hotfix\nreplicas: 2\n' });
    const theirs = repo.commit(other, 'hotfix by hand');
    repo.beforeFirstPush(work, `git -C '${other}' push --quiet origin main`);

    const result = runRestore(work, { HEALTHY_REVISION: repo.commits.healthy, VALUES_PATHS: PROD });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^restore-values: the values files changed on main meanwhile and conflict with the restore; resolve by hand\n$/);
    expect(repo.mainHead()).toBe(theirs);
  });

  describe('refusals: non-zero, one line, nothing pushed', () => {
    const pwned = join(tmpdir(), `restore-values-pwned-${process.pid}`);
    const cases: Array<{ name: string; env: () => Record<string, string>; reason: RegExp }> = [
      { name: 'a SHA with shell metacharacters', env: () => ({ HEALTHY_REVISION: `$(touch ${pwned})`, VALUES_PATHS: PROD }), reason: /HEALTHY_REVISION is not a full commit id/ },
      { name: 'a SHA with a quote and a semicolon', env: () => ({ HEALTHY_REVISION: `${repo.commits.healthy}'; touch ${pwned}; '`, VALUES_PATHS: PROD }), reason: /HEALTHY_REVISION is not a full commit id/ },
      { name: 'a short SHA', env: () => ({ HEALTHY_REVISION: repo.commits.healthy.slice(0, 12), VALUES_PATHS: PROD }), reason: /HEALTHY_REVISION is not a full commit id/ },
      { name: '<no value>', env: () => ({ HEALTHY_REVISION: '<no value>', VALUES_PATHS: PROD }), reason: /HEALTHY_REVISION is not a full commit id/ },
      { name: 'no HEALTHY_REVISION', env: () => ({ VALUES_PATHS: PROD }), reason: /HEALTHY_REVISION is not a full commit id/ },
      { name: 'an unknown commit', env: () => ({ HEALTHY_REVISION: 'e'.repeat(40), VALUES_PATHS: PROD }), reason: /HEALTHY_REVISION is not a commit in this repository/ },
      { name: 'a bad FAILED_REVISION', env: () => ({ HEALTHY_REVISION: repo.commits.healthy, FAILED_REVISION: '$(id)', VALUES_PATHS: PROD }), reason: /FAILED_REVISION is not a commit id/ },
      { name: 'a path under .github/', env: () => ({ HEALTHY_REVISION: repo.commits.healthy, VALUES_PATHS: '.github/workflows/x.yml' }), reason: /nothing under \.github\/ is restored/ },
      { name: 'a path leaving the repository', env: () => ({ HEALTHY_REVISION: repo.commits.healthy, VALUES_PATHS: '../x.yaml' }), reason: /leaves the repository/ },
      { name: 'an absolute path', env: () => ({ HEALTHY_REVISION: repo.commits.healthy, VALUES_PATHS: '/etc/x.yaml' }), reason: /leaves the repository/ },
      { name: '.. hidden in the middle', env: () => ({ HEALTHY_REVISION: repo.commits.healthy, VALUES_PATHS: `${PROD} charts/../../x.yaml` }), reason: /leaves the repository/ },
      {
        name: 'a .github path with a permissive ALLOWED_PATHS_REGEX',
        env: () => ({ HEALTHY_REVISION: repo.commits.healthy, VALUES_PATHS: '.github/workflows/x.yml', ALLOWED_PATHS_REGEX: '.*' }),
        reason: /nothing under \.github\//,
      },
      { name: 'a path the regex does not allow', env: () => ({ HEALTHY_REVISION: repo.commits.healthy, VALUES_PATHS: 'README.md' }), reason: /does not match ALLOWED_PATHS_REGEX/ },
      { name: 'a file missing at the healthy revision', env: () => ({ HEALTHY_REVISION: repo.commits.healthy, VALUES_PATHS: 'charts/other/values.yaml' }), reason: /does not exist at the healthy revision/ },
    ];

    it.each(cases)('when given $name', ({ env, reason }) => {
      const head = repo.mainHead();
      const result = runRestore(repo.clone(), env());
      expect(result.status).not.toBe(0);
      expect(result.stderr).toMatch(reason);
      expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(result.stderr).not.toContain('$(');
      expect(repo.mainHead()).toBe(head);
      expect(existsSync(pwned)).toBe(false);
    });
  });
});
