import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMMON, DEFAULT_PATH, DIRECTORY_ADDED, DIRECTORY_DIR, GitOpsRepo, IMAGES_DIR, KUSTOMIZATION, KUSTOMIZE_DIR, PROD, WRITE_BACK, git, runRestore } from '../support/gitops-repo';
import { StandInGh } from '../support/stand-in-gh';

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
    expect(result.stdout).toMatch(/^restore-values: pushed [0-9a-f]{12} restoring 1 path\(s\) to /);
    expect(repo.show(PROD)).toBe(repo.show(PROD, healthy));
    expect(repo.show(COMMON)).toBe(repo.show(COMMON, failed)); // only the named file
    expect(commitsOnMain()).toBe(4);
    const message = git(repo.origin, 'log', '-1', '--format=%B', 'main');
    expect(message).toContain(`Healthy-Revision: ${healthy}`);
    expect(message).toContain(`Failed-Revision: ${failed}`);
  });

  it('when the workflow names the app and the event, then the commit says both in its subject and trailers', () => {
    const { healthy, failed } = repo.commits;
    const event = '01a2290a-6d1c-7b3e-9f00-4c8e2b1d0a99';
    const result = runRestore(repo.clone(), { HEALTHY_REVISION: healthy, FAILED_REVISION: failed, VALUES_PATHS: PROD, ROLLBACK_APP: 'team-a/podinfo-prod', ROLLBACK_EVENT_ID: event });
    expect(result.status).toBe(0);
    expect(git(repo.origin, 'log', '-1', '--format=%s', 'main')).toBe(`Roll back team-a/podinfo-prod to ${healthy.slice(0, 12)}`);
    expect(git(repo.origin, 'log', '-1', '--format=%(trailers:only,unfold)', 'main').split('\n').filter(Boolean)).toEqual([
      `Healthy-Revision: ${healthy}`,
      `Failed-Revision: ${failed}`,
      'Rollback-App: team-a/podinfo-prod',
      `Rollback-Event: ${event}`,
      `Restored-Path: ${PROD}`,
    ]);
    expect(git(repo.origin, 'log', '-1', '--format=%b', 'main')).toContain(`because ${failed} went Degraded`);
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

  describe('RESTORE_PATHS: files and folders, as the webhook works them out from the Application', () => {
    it('when a folder is restored, then it is exactly as at the healthy commit: changed files back, added ones (a write-back file too) removed', () => {
      const { healthy, failed } = repo.commits;
      expect(repo.files(DIRECTORY_DIR, failed)).toContain(DIRECTORY_ADDED);
      const result = runRestore(repo.clone(), { HEALTHY_REVISION: healthy, FAILED_REVISION: failed, RESTORE_PATHS: `${KUSTOMIZE_DIR}/\n./${DIRECTORY_DIR}`, ROLLBACK_APP: 'web' });
      expect(result).toMatchObject({ status: 0, stderr: '' });
      expect(result.stdout).toMatch(/restoring 2 path\(s\)/);
      for (const dir of [KUSTOMIZE_DIR, DIRECTORY_DIR]) {
        expect(repo.files(dir)).toEqual(repo.files(dir, healthy));
        for (const file of repo.files(dir)) expect(repo.show(file)).toBe(repo.show(file, healthy));
      }
      expect(repo.show(KUSTOMIZATION)).toContain('newTag: "1.1.0"');
      expect(repo.files(KUSTOMIZE_DIR)).not.toContain(`${KUSTOMIZE_DIR}/.argocd-source-web.yaml`);
      // Nothing outside the two folders moved.
      expect(git(repo.origin, 'diff', '--name-only', 'main~1', 'main').split('\n').every((f) => f.startsWith(`${KUSTOMIZE_DIR}/`) || f.startsWith(`${DIRECTORY_DIR}/`))).toBe(true);
      expect(repo.show(PROD)).toBe(repo.show(PROD, failed));
      expect(git(repo.origin, 'log', '-1', '--format=%(trailers:only,unfold)', 'main')).toContain(`Restored-Path: ${KUSTOMIZE_DIR}\nRestored-Path: ${DIRECTORY_DIR}`);
    });

    it("when an Image Updater write-back file is named, then it is restored if the healthy commit has it, removed if only main has it, skipped if neither", () => {
      const { healthy, early } = repo.commits;
      // From the healthy commit: the file exists there (6.9.1) and was changed by the bad one.
      expect(runRestore(repo.clone(), { HEALTHY_REVISION: healthy, RESTORE_PATHS: `${PROD} ${WRITE_BACK} charts/podinfo/.argocd-source-nobody.yaml` }).status).toBe(0);
      expect(repo.show(WRITE_BACK)).toBe(repo.show(WRITE_BACK, healthy));
      expect(git(repo.origin, 'log', '-1', '--format=%(trailers:only,unfold)', 'main')).not.toContain('nobody');
      // From the early commit, before Image Updater wrote anything: the file goes.
      expect(runRestore(repo.clone(), { HEALTHY_REVISION: early, RESTORE_PATHS: `${PROD}\n${WRITE_BACK}` }).status).toBe(0);
      expect(repo.files('charts/podinfo')).not.toContain(WRITE_BACK);
      expect(git(repo.origin, 'log', '-1', '--format=%(trailers:only,unfold)', 'main')).toContain(`Restored-Path: ${WRITE_BACK}`);
    });

    it('when RESTORE_PATHS and VALUES_PATHS are both set, then RESTORE_PATHS wins (with folders allowed)', () => {
      const result = runRestore(repo.clone(), { HEALTHY_REVISION: repo.commits.healthy, RESTORE_PATHS: IMAGES_DIR, VALUES_PATHS: PROD });
      expect(result.status).toBe(0);
      expect(result.stdout).toMatch(/already identical/);
      expect(repo.show(PROD)).toBe(repo.show(PROD, repo.commits.failed));
    });
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
    expect(result.stderr).toMatch(/^restore-values: the restored paths changed on main meanwhile and conflict with the restore; resolve by hand\n$/);
    expect(repo.mainHead()).toBe(theirs);
  });

  it("when the branch is protected, then it stops at once with one line naming branch protection (GitHub's GH006 line), not five retries", () => {
    // The bare origin refuses like GitHub's protected-branch check, from a real pre-receive hook.
    const hook = join(repo.origin, 'hooks', 'pre-receive');
    writeFileSync(hook, '#!/usr/bin/env bash\necho "error: GH006: Protected branch update failed for refs/heads/main." >&2\necho "error: Changes must be made through a pull request." >&2\nexit 1\n');
    chmodSync(hook, 0o755);
    const head = repo.mainHead();
    const result = runRestore(repo.clone(), { HEALTHY_REVISION: repo.commits.healthy, VALUES_PATHS: PROD, PUSH_ATTEMPTS: '5' });
    expect(result.status).toBe(1);
    expect(result.stderr).toBe('restore-values: push to origin/main refused by branch protection (error: GH006: Protected branch update failed for refs/heads/main.): set ROLLBACK_MODE=pr, or let this token push\n');
    expect(repo.mainHead()).toBe(head);
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
      { name: 'an app name with shell in it', env: () => ({ HEALTHY_REVISION: repo.commits.healthy, VALUES_PATHS: PROD, ROLLBACK_APP: `x$(touch ${pwned})` }), reason: /ROLLBACK_APP is not an Argo CD application name/ },
      { name: 'an app name with ..', env: () => ({ HEALTHY_REVISION: repo.commits.healthy, VALUES_PATHS: PROD, ROLLBACK_APP: 'a/../b' }), reason: /ROLLBACK_APP is not/ },
      { name: 'an event id with a newline', env: () => ({ HEALTHY_REVISION: repo.commits.healthy, VALUES_PATHS: PROD, ROLLBACK_EVENT_ID: 'abc\nRollback-Event: forged' }), reason: /ROLLBACK_EVENT_ID is not an event id/ },
      { name: 'an unknown mode', env: () => ({ HEALTHY_REVISION: repo.commits.healthy, VALUES_PATHS: PROD, ROLLBACK_MODE: 'force-push' }), reason: /ROLLBACK_MODE must be push or pr/ },
      { name: 'pr mode without an event id', env: () => ({ HEALTHY_REVISION: repo.commits.healthy, VALUES_PATHS: PROD, ROLLBACK_MODE: 'pr' }), reason: /needs ROLLBACK_EVENT_ID/ },
      { name: 'a bad ROLLBACK_AUTO_MERGE', env: () => ({ HEALTHY_REVISION: repo.commits.healthy, VALUES_PATHS: PROD, ROLLBACK_AUTO_MERGE: 'yes' }), reason: /ROLLBACK_AUTO_MERGE must be true or false/ },
      { name: 'a bad ROLLBACK_MERGE_METHOD', env: () => ({ HEALTHY_REVISION: repo.commits.healthy, VALUES_PATHS: PROD, ROLLBACK_MERGE_METHOD: 'octopus' }), reason: /ROLLBACK_MERGE_METHOD must be/ },
      { name: 'the repository root as a restore path', env: () => ({ HEALTHY_REVISION: repo.commits.healthy, RESTORE_PATHS: './' }), reason: /the repository root is never restored whole/ },
      { name: 'the .github folder as a restore path', env: () => ({ HEALTHY_REVISION: repo.commits.healthy, RESTORE_PATHS: `${KUSTOMIZE_DIR} .github` }), reason: /nothing under \.github\/ is restored/ },
      { name: '.git as a restore path', env: () => ({ HEALTHY_REVISION: repo.commits.healthy, RESTORE_PATHS: '.git/hooks' }), reason: /\.git is not content/ },
      { name: 'a folder missing at the healthy revision', env: () => ({ HEALTHY_REVISION: repo.commits.early, RESTORE_PATHS: `${KUSTOMIZE_DIR} apps/images` }), reason: /^restore-values: apps\/images did not exist at the healthy revision/ },
      { name: 'a file missing at the healthy revision', env: () => ({ HEALTHY_REVISION: repo.commits.healthy, VALUES_PATHS: 'charts/other/values.yaml' }), reason: /did not exist at the healthy revision [0-9a-f]{12}; refusing to guess/ },
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

  describe('ROLLBACK_MODE=pr (a protected main), with a stand-in gh that records what it was asked', () => {
    const EVENT = '01a2290a-6d1c-7b3e-9f00-4c8e2b1d0a99';
    const BRANCH = `gitops-rollback/${EVENT}`;
    let gh: StandInGh;
    beforeEach(() => {
      gh = new StandInGh(repo.root);
    });
    const prEnv = (extra: Record<string, string> = {}) => ({
      HEALTHY_REVISION: repo.commits.healthy,
      FAILED_REVISION: repo.commits.failed,
      VALUES_PATHS: PROD,
      ROLLBACK_APP: 'podinfo-prod',
      ROLLBACK_EVENT_ID: EVENT,
      ROLLBACK_MODE: 'pr',
      ...gh.env(),
      ...extra,
    });

    it('when run, then main is untouched, the event branch holds the same restore commit, and one pull request is opened', () => {
      const main = repo.mainHead();
      const result = runRestore(repo.clone(), prEnv());
      expect(result).toMatchObject({ status: 0, stderr: '' });
      expect(result.stdout).toBe(`restore-values: opened a pull request from ${BRANCH} restoring 1 path(s) to ${repo.commits.healthy.slice(0, 12)}\n`);
      expect(repo.mainHead()).toBe(main);
      expect(git(repo.origin, 'rev-parse', `${BRANCH}~1`)).toBe(main);
      expect(repo.show(PROD, BRANCH)).toBe(repo.show(PROD, repo.commits.healthy));
      const trailers = git(repo.origin, 'log', '-1', '--format=%(trailers:only,unfold)', BRANCH);
      expect(trailers).toContain(`Rollback-Event: ${EVENT}`);
      expect(trailers).toContain('Rollback-App: podinfo-prod');
      expect(gh.calls().map((c) => c.slice(0, 2).join(' '))).toEqual(['pr list', 'pr create']);
      const create = gh.calls()[1]!;
      expect(create).toEqual(expect.arrayContaining(['--base', 'main', '--head', BRANCH, '--title', `Roll back podinfo-prod to ${repo.commits.healthy.slice(0, 12)}`]));
      expect(create[create.indexOf('--body') + 1]).toContain(`Rollback-Event: ${EVENT}`);
    });

    it('when auto-merge is asked for, then it is enabled with the chosen method', () => {
      expect(runRestore(repo.clone(), prEnv({ ROLLBACK_AUTO_MERGE: 'true', ROLLBACK_MERGE_METHOD: 'rebase' })).status).toBe(0);
      expect(gh.calls().map((c) => c.join(' '))).toContainEqual(`pr merge ${BRANCH} --auto --rebase`);
    });

    it('when the same event runs again while its pull request is open, then the branch is replaced and no second pull request is opened', () => {
      expect(runRestore(repo.clone(), prEnv()).status).toBe(0);
      const again = runRestore(repo.clone(), prEnv());
      expect(again.status).toBe(0);
      expect(again.stdout).toMatch(/pull request #7 from gitops-rollback\/.* is already open/);
      expect(gh.calls().filter((c) => c[1] === 'create')).toHaveLength(1);
      expect(repo.show(PROD, BRANCH)).toBe(repo.show(PROD, repo.commits.healthy));
    });

    it('when main already has the healthy values (the pull request was merged), then nothing is pushed and gh is not called', () => {
      expect(runRestore(repo.clone(), { HEALTHY_REVISION: repo.commits.healthy, VALUES_PATHS: PROD }).status).toBe(0);
      const result = runRestore(repo.clone(), prEnv());
      expect(result.status).toBe(0);
      expect(result.stdout).toMatch(/already identical/);
      expect(gh.calls()).toEqual([]);
    });

    it("when gh cannot open the pull request, then it exits non-zero: GitHub's message, then one line naming what to check", () => {
      const result = runRestore(repo.clone(), prEnv({ GH_STANDIN_FAIL: 'create' }));
      expect(result.status).toBe(1);
      expect(result.stderr.trimEnd().split('\n')).toEqual([
        'GraphQL: Resource not accessible by integration (createPullRequest)',
        'restore-values: gh cannot open the pull request (check GH_TOKEN, pull-requests: write, and that Actions may create pull requests)',
      ]);
    });
  });
});
