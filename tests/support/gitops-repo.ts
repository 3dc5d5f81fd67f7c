import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const RESTORE_SCRIPT = join(__dirname, '..', '..', 'deploy', 'github', 'restore-values.sh');

/** Git identity and no user config, so tests behave the same on every machine. */
export const GIT_ENV = {
  PATH: process.env.PATH ?? '',
  HOME: tmpdir(),
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'rollback-test',
  GIT_AUTHOR_EMAIL: 'rollback-test@example.invalid',
  GIT_COMMITTER_NAME: 'rollback-test',
  GIT_COMMITTER_EMAIL: 'rollback-test@example.invalid',
};

export function git(cwd: string, ...args: string[]): string {
  // stderr captured: git's notes ("cloned an empty repository") are not test output; a failure still throws with it.
  return execFileSync('git', args, { cwd, env: GIT_ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

export const PROD = 'charts/podinfo/values-prod.yaml';
export const COMMON = 'charts/podinfo/values-common.yaml';
export const DEFAULT_PATH = 'nextjs/values.yaml';
/** A Kustomize app (image tag in kustomization.yaml), a plain directory app, and Image Updater's write-back files. */
export const KUSTOMIZE_DIR = 'apps/web';
export const KUSTOMIZATION = 'apps/web/kustomization.yaml';
export const DIRECTORY_DIR = 'apps/plain';
export const DIRECTORY_ADDED = 'apps/plain/debug-pod.yaml';
export const WRITE_BACK = 'charts/podinfo/.argocd-source-podinfo-prod.yaml';
export const IMAGES_DIR = 'apps/images';

let template: { origin: string; commits: GitOpsRepo['commits'] } | undefined;

/**
 * The bare origin every GitOpsRepo starts from, seeded on first use, in the run's temporary folder
 * (removed by tests/global-teardown.ts; jest workers end without running exit handlers).
 */
function seededOrigin(): NonNullable<typeof template> {
  if (template) return template;
  const root = mkdtempSync(join(process.env.TEST_RUN_TMP ?? tmpdir(), 'gitops-template-'));
  const origin = join(root, 'origin.git');
  const seed = join(root, 'seed');
  const write = (files: Record<string, string>) => {
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(dirname(join(seed, path)), { recursive: true });
      writeFileSync(join(seed, path), content);
    }
  };
  const commit = (message: string) => {
    git(seed, 'add', '-A');
    git(seed, 'commit', '--quiet', '-m', message);
    return git(seed, 'rev-parse', 'HEAD');
  };
  git(root, 'init', '--quiet', '--bare', '--initial-branch=main', origin);
  git(root, 'clone', '--quiet', origin, seed);
  // The workflow's script lives in the GitOps repository, where rollback.yml runs it from.
  const kustomization = (tag: string) => `resources: [deployment.yaml]\nimages:\n  - name: ghcr.io/acme/web\n    newTag: "${tag}"\n`;
  const writeBack = (tag: string) => `helm:\n  parameters:\n    - name: image.tag\n      value: "${tag}"\n      forcestring: true\n`;
  write({
    [PROD]: 'image: 6.9.0\nreplicas: 2\n',
    [COMMON]: 'resources: small\n',
    [DEFAULT_PATH]: 'image: web:1\n',
    'README.md': 'gitops\n',
    'deploy/github/restore-values.sh': readFileSync(RESTORE_SCRIPT, 'utf8'),
    [KUSTOMIZATION]: kustomization('1.0.0'),
    [`${KUSTOMIZE_DIR}/deployment.yaml`]: 'kind: Deployment\nmetadata: {name: web}\n',
    [`${DIRECTORY_DIR}/deployment.yaml`]: 'kind: Deployment\nmetadata: {name: plain}\nspec: {replicas: 2}\n',
  });
  const early = commit('early');
  write({ [PROD]: 'image: 6.9.1\nreplicas: 2\n', [DEFAULT_PATH]: 'image: web:2\n', [KUSTOMIZATION]: kustomization('1.1.0'), [WRITE_BACK]: writeBack('6.9.1'), [`${IMAGES_DIR}/kustomization.yaml`]: 'resources: []\n' });
  const healthy = commit('healthy release');
  write({
    [PROD]: 'image: 6.9.99-broken\nreplicas: 2\n',
    [COMMON]: 'resources: tiny\n',
    [DEFAULT_PATH]: 'image: web:broken\n',
    [KUSTOMIZATION]: kustomization('1.2.0-broken'),
    [`${DIRECTORY_DIR}/deployment.yaml`]: 'kind: Deployment\nmetadata: {name: plain}\nspec: {replicas: 0}\n',
    [DIRECTORY_ADDED]: 'kind: Pod\nmetadata: {name: debug}\n',
    [WRITE_BACK]: writeBack('6.9.99-broken'),
    [`${KUSTOMIZE_DIR}/.argocd-source-web.yaml`]: 'kustomize:\n  images: [ghcr.io/acme/web:1.2.0-broken]\n',
  });
  const failed = commit('bad release');
  git(seed, 'push', '--quiet', 'origin', 'main');
  template = { origin, commits: { early, healthy, failed } };
  return template;
}

/**
 * A local GitOps repository: a bare origin with three commits on main (an early one, a healthy one, a
 * failed one that breaks the values files) and helpers to clone it, commit to it and read it.
 */
export class GitOpsRepo {
  readonly root = mkdtempSync(join(tmpdir(), 'gitops-'));
  readonly origin = join(this.root, 'origin.git');
  readonly commits: { early: string; healthy: string; failed: string };
  private clones = 0;

  constructor() {
    // The seeded origin is built once per test process and copied (same commits) for each repository:
    // a copy of a bare repository is a few ms, the dozen git commands that seed it a few hundred.
    const template = seededOrigin();
    cpSync(template.origin, this.origin, { recursive: true });
    this.commits = template.commits;
  }

  /** A fresh full clone, as actions/checkout with fetch-depth: 0 makes. */
  clone(name = `clone-${++this.clones}`): string {
    const dir = join(this.root, name);
    git(this.root, 'clone', '--quiet', this.origin, dir);
    return dir;
  }

  write(dir: string, files: Record<string, string>): void {
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), content);
    }
  }

  commit(dir: string, message: string): string {
    git(dir, 'add', '-A');
    git(dir, 'commit', '--quiet', '-m', message);
    return git(dir, 'rev-parse', 'HEAD');
  }

  /** The files under `dir` on origin's main (or at `revision`), sorted. */
  files(dir: string, revision = 'main'): string[] {
    return git(this.origin, 'ls-tree', '-r', '--name-only', revision, '--', dir).split('\n').filter(Boolean).sort();
  }

  /** A file as it is on origin's main (or at `revision`). */
  show(path: string, revision = 'main'): string {
    return git(this.origin, 'show', `${revision}:${path}`);
  }

  mainHead(): string {
    return git(this.origin, 'rev-parse', 'main');
  }

  /** Installs a pre-push hook in `dir` that runs `script` (bash) once, before the first push. */
  beforeFirstPush(dir: string, script: string): void {
    const hook = join(dir, '.git', 'hooks', 'pre-push');
    const marker = join(dir, '.git', 'pre-push-ran');
    writeFileSync(hook, `#!/usr/bin/env bash\nset -e\n[ -e '${marker}' ] && exit 0\ntouch '${marker}'\n${script}\n`);
    chmodSync(hook, 0o755);
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** Runs the shipped restore script in `cwd` with exactly `env` (plus git's test environment). */
export function runRestore(cwd: string, env: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync('bash', [RESTORE_SCRIPT], { cwd, env: { ...GIT_ENV, ...env }, encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
