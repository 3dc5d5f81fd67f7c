/**
 * What a rollback restores, and in which repository: a pure function of the Application's sources (as
 * the shipped templates send them), the revisions each source had when healthy and when it failed, and
 * the route. Reasons are data: every path says why it is restored, every source left out says why.
 */

/** One entry of the Application's spec.source / spec.sources, as the shipped templates send it. */
export interface AppSource {
  repoURL: string;
  path: string;
  targetRevision: string;
  /** Set for a Helm chart from a chart repository: its revision is a chart version, not a commit. */
  chart: string;
  /** Set for a source other sources read value files from (`$<ref>/file.yaml`). */
  ref: string;
  valueFiles: readonly string[];
  /** Argo CD's detected type (status.sourceType / sourceTypes[i]): Helm, Kustomize, Directory, Plugin, or "". */
  type: string;
}

export type RestoreFrom = 'application' | 'route' | 'VALUES_PATHS' | 'workflow default';

export interface RestorePath {
  path: string;
  why: string;
}

/** One dispatch: the repository, the commit to restore from, and the paths. */
export interface RestoreTarget {
  owner: string;
  repo: string;
  healthyRevision: string;
  from: RestoreFrom;
  /** Empty only for `workflow default` (the workflow restores its own default file). */
  paths: RestorePath[];
}

export type RestorePlan =
  /** `notes`: sources left out and why (a chart version bump, a repository elsewhere, …). */
  | { kind: 'restore'; targets: RestoreTarget[]; notes: string[] }
  | { kind: 'not_restorable'; reason: string };

export interface RestoreInput {
  app: string;
  /** From the body (shape C with the shipped templates); undefined for shapes A and B. */
  sources?: readonly AppSource[];
  /** Each source's revision as deployed when the app failed. */
  failedRevisions?: readonly string[];
  /** Each source's revision in the healthy state rolled back to, when the history sent says. */
  healthyRevisions?: readonly string[];
  /** The source whose revision the rollback is keyed on (its repository gets the policy's target). */
  sourceIndex: number;
  /** The policy's target: a commit of sources[sourceIndex]'s repository (or of the route's). */
  healthyRevision: string;
  route: { owner: string; repo: string; pattern?: string; valuesPaths?: readonly string[]; valuesPathsFrom?: 'route' | 'VALUES_PATHS' };
  /** Hosts whose repositories can be dispatched to: github.com and a GitHub Enterprise host. */
  githubHosts: readonly string[];
}

const FULL_COMMIT = /^([0-9a-f]{40}|[0-9a-f]{64})$/;
const OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;
const REPO = /^[A-Za-z0-9._-]{1,100}$/;
/** Image Updater's write-back file: restored when present at the healthy commit, removed when it was not. */
export const WRITE_BACK_FILE = /(^|\/)\.argocd-source-[A-Za-z0-9._-]+\.ya?ml$/;

/**
 * The GitHub repository of an Argo CD `repoURL`: https://HOST/o/r(.git), git@HOST:o/r(.git) or
 * ssh://git@HOST(:port)/o/r(.git), where HOST is one of `hosts` (case-insensitive).
 */
export function parseRepoUrl(url: string, hosts: readonly string[]): { owner: string; repo: string } | { problem: string } {
  const text = url.trim();
  const match =
    /^https?:\/\/(?:[^@/]+@)?([^/:]+)(?::\d+)?\/([^/]+)\/([^/]+?)(?:\.git)?\/?$/i.exec(text) ??
    /^ssh:\/\/(?:[^@/]+@)?([^/:]+)(?::\d+)?\/([^/]+)\/([^/]+?)(?:\.git)?\/?$/i.exec(text) ??
    /^(?:[^@/:]+@)?([^/:]+):([^/]+)\/([^/]+?)(?:\.git)?\/?$/.exec(text);
  if (!match) return { problem: `repoURL ${JSON.stringify(url)} is not a GitHub repository URL (https://HOST/owner/repo, git@HOST:owner/repo or ssh://git@HOST/owner/repo)` };
  const [, host, owner, repo] = match as unknown as [string, string, string, string];
  if (!hosts.some((h) => h.toLowerCase() === host.toLowerCase())) {
    return { problem: `repoURL ${JSON.stringify(url)} is on ${host}, not on ${hosts.join(' or ')}: the service dispatches to GitHub only` };
  }
  if (!OWNER.test(owner) || !REPO.test(repo)) return { problem: `repoURL ${JSON.stringify(url)} does not name a GitHub owner and repository` };
  return { owner, repo };
}

/** Why the workflow would refuse `path` as a path to restore, or undefined. The same rule as restore-values.sh. */
export function restorePathProblem(path: string): string | undefined {
  if (!/^[A-Za-z0-9._/-]+$/.test(path)) return 'only letters, digits, . _ / - are allowed';
  const segments = path.split('/');
  if (path.startsWith('/') || segments.includes('..')) return 'leaves the repository';
  if (segments[0] === '.github') return 'nothing under .github/ is restored';
  if (segments[0] === '.git') return 'the .git folder is not content';
  if (path === '.' || path === '') return 'the repository root: restoring it would undo every other app’s changes too';
  return undefined;
}

/**
 * `file` relative to `base`, as Argo CD resolves value files: `.` and empty segments dropped, `x/..`
 * folded. A path that climbs above the repository keeps a leading `..` (and is refused).
 */
function joinPath(base: string, file: string): string {
  const out: string[] = [];
  for (const segment of [...base.split('/'), ...file.split('/')]) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..' && out.length > 0 && out[out.length - 1] !== '..') out.pop();
    else out.push(segment);
  }
  return out.join('/');
}

function describe(source: AppSource, index: number): string {
  return `source ${index} (${source.chart ? `chart ${source.chart} from ${source.repoURL}` : `${source.repoURL}${source.path ? ` path ${source.path}` : ''}${source.ref ? ` ref ${source.ref}` : ''}`})`;
}

interface Wanted {
  sourceIndex: number;
  path: string;
  why: string;
}

/**
 * The plan. A route's `values_paths` overrides everything (to the route's repository); a body without
 * sources restores VALUES_PATHS (or the workflow's default) in the route's repository. Otherwise each
 * source whose revision changed between the healthy and the failed state contributes:
 * - a Helm source in git: its value files relative to its path (the whole path when it has none), and
 *   Image Updater's write-back file;
 * - a source other sources read `$<ref>/…` value files from: those files, in its own repository;
 * - a Kustomize, directory or plugin source: its whole path;
 * - a chart from a chart repository: nothing (noted: no commit undoes a chart version).
 * Paths are grouped into one target per repository and healthy commit.
 */
export function planRestore(input: RestoreInput): RestorePlan {
  const { route } = input;
  if (route.valuesPaths !== undefined && (route.valuesPathsFrom === 'route' || !input.sources?.length)) {
    const from = route.valuesPathsFrom ?? 'route';
    const why = from === 'route' ? `values_paths of the route ${route.pattern ?? ''}`.trim() : 'VALUES_PATHS (the body names no sources)';
    return { kind: 'restore', notes: [], targets: [{ owner: route.owner, repo: route.repo, healthyRevision: input.healthyRevision, from, paths: route.valuesPaths.map((path) => ({ path, why })) }] };
  }
  const sources = input.sources ?? [];
  if (sources.length === 0) {
    return { kind: 'restore', notes: [], targets: [{ owner: route.owner, repo: route.repo, healthyRevision: input.healthyRevision, from: 'workflow default', paths: [] }] };
  }

  const notes: string[] = [];
  const repos = sources.map((s) => (s.chart ? undefined : parseRepoUrl(s.repoURL, input.githubHosts)));
  const indexRepo = repos[input.sourceIndex];
  const sameRepo = (i: number) => {
    const a = repos[i];
    return a !== undefined && indexRepo !== undefined && 'owner' in a && 'owner' in indexRepo && a.owner.toLowerCase() === indexRepo.owner.toLowerCase() && a.repo.toLowerCase() === indexRepo.repo.toLowerCase();
  };
  const healthyOf = (i: number): string | undefined => {
    if (i === input.sourceIndex) return input.healthyRevision;
    const known = input.healthyRevisions?.[i];
    if (known !== undefined && known !== '') return known.toLowerCase();
    // Sources of one repository that follow the same branch sit at the same commit.
    return sameRepo(i) && sources[i]!.targetRevision === sources[input.sourceIndex]!.targetRevision ? input.healthyRevision : undefined;
  };
  const changed = (i: number): boolean => {
    const failed = input.failedRevisions?.[i];
    const healthy = i === input.sourceIndex ? input.healthyRevision : input.healthyRevisions?.[i];
    if (failed === undefined || failed === '' || healthy === undefined || healthy === '') return true;
    return failed.toLowerCase() !== healthy.toLowerCase();
  };

  const wanted: Wanted[] = [];
  sources.forEach((source, i) => {
    if (!changed(i)) return;
    const name = describe(source, i);
    if (source.chart) {
      notes.push(`${name}: a chart version${input.failedRevisions?.[i] ? ` (${input.failedRevisions[i]})` : ''} from a chart repository; no commit can undo it`);
      return;
    }
    if (source.ref) {
      const prefix = `$${source.ref}/`;
      sources.forEach((reader, r) => {
        for (const file of reader.valueFiles) {
          if (file.startsWith(prefix)) wanted.push({ sourceIndex: i, path: joinPath('', file.slice(prefix.length)), why: `value file ${file} of ${describe(reader, r)}, from ${name}` });
        }
      });
      if (!source.path) return;
    }
    if (!source.path) {
      if (!source.ref) notes.push(`${name}: no path to restore`);
      return;
    }
    const own = source.valueFiles.filter((f) => !f.startsWith('$'));
    const helm = source.type === 'Helm' || source.valueFiles.length > 0;
    if (helm && own.length > 0) {
      for (const file of own) wanted.push({ sourceIndex: i, path: joinPath(source.path, file), why: `Helm value file ${file} of ${name}` });
    } else {
      wanted.push({ sourceIndex: i, path: joinPath(source.path, ''), why: `the whole path of ${name}${source.type ? ` (${source.type})` : ''}` });
    }
    if (helm && own.length > 0 && /^[A-Za-z0-9._-]+$/.test(input.app)) {
      wanted.push({ sourceIndex: i, path: joinPath(source.path, `.argocd-source-${input.app}.yaml`), why: `Argo CD Image Updater's write-back file of ${name}, if either commit has it` });
    }
  });

  const targets: RestoreTarget[] = [];
  for (const want of wanted) {
    const name = describe(sources[want.sourceIndex]!, want.sourceIndex);
    const repo = repos[want.sourceIndex];
    if (repo === undefined) continue;
    if ('problem' in repo) {
      if (!notes.some((n) => n.startsWith(`${name}:`))) notes.push(`${name}: ${repo.problem}`);
      continue;
    }
    const problem = restorePathProblem(want.path);
    if (problem !== undefined) {
      notes.push(`${want.path || '(repository root)'} (${want.why}): not restored: ${problem}`);
      continue;
    }
    const healthy = healthyOf(want.sourceIndex);
    if (healthy === undefined || !FULL_COMMIT.test(healthy)) {
      if (!notes.some((n) => n.startsWith(`${name}:`))) notes.push(`${name}: its healthy commit is not known (not in the history Argo CD sent); not restored`);
      continue;
    }
    let target = targets.find((t) => t.owner.toLowerCase() === repo.owner.toLowerCase() && t.repo.toLowerCase() === repo.repo.toLowerCase() && t.healthyRevision === healthy);
    if (!target) {
      target = { owner: repo.owner, repo: repo.repo, healthyRevision: healthy, from: 'application', paths: [] };
      targets.push(target);
    }
    if (!target.paths.some((p) => p.path === want.path)) target.paths.push({ path: want.path, why: want.why });
  }
  if (targets.length === 0) {
    const nothingChanged = notes.length === 0;
    return { kind: 'not_restorable', reason: nothingChanged ? 'no source of the Application has anything in git to restore' : notes.join('; ') };
  }
  // The target holding the rollback's own revision goes first: it carries the event the answer names.
  targets.sort((a, b) => Number(b.healthyRevision === input.healthyRevision && sameRepoAs(b, indexRepo)) - Number(a.healthyRevision === input.healthyRevision && sameRepoAs(a, indexRepo)));
  return { kind: 'restore', targets, notes };
}

function sameRepoAs(target: RestoreTarget, repo: { owner: string; repo: string } | { problem: string } | undefined): boolean {
  return repo !== undefined && 'owner' in repo && repo.owner.toLowerCase() === target.owner.toLowerCase() && repo.repo.toLowerCase() === target.repo.toLowerCase();
}

/** The payload key and value a target's paths travel in: restore_paths for the Application's, values_paths otherwise. */
export function pathsPayload(target: RestoreTarget): Record<string, string> {
  if (target.paths.length === 0) return {};
  const value = target.paths.map((p) => p.path).join('\n');
  return target.from === 'application' ? { restore_paths: value } : { values_paths: value };
}

/**
 * When the deploy that failed changed only charts from chart repositories (compared with the newest
 * earlier history entry whose revisions differ), the reason nothing in git can undo it; else undefined.
 */
export function chartOnlyChange(input: { sources?: readonly AppSource[]; failedRevisions?: readonly string[]; history?: ReadonlyArray<{ revisions?: readonly string[] }> }): string | undefined {
  const { sources, failedRevisions: failed } = input;
  if (!sources || !failed || failed.length !== sources.length || sources.length < 2) return undefined;
  const differs = (revisions: readonly string[]) => revisions.some((r, i) => r !== failed[i]);
  const previous = [...(input.history ?? [])].reverse().find((h) => h.revisions?.length === failed.length && differs(h.revisions));
  if (!previous?.revisions) return undefined;
  const changed = failed.map((_, i) => i).filter((i) => previous.revisions![i] !== failed[i]);
  if (!changed.every((i) => sources[i]!.chart !== '')) return undefined;
  const what = changed.map((i) => `${sources[i]!.chart} ${previous.revisions![i]} → ${failed[i]} (${sources[i]!.repoURL})`).join(', ');
  return `only the chart version changed: ${what}; a chart version is not a commit, nothing in git can undo it; roll the chart back by hand (targetRevision)`;
}

/**
 * The healthy state's revision of every source: the newest history entry whose revision of the keyed
 * source is the target. Undefined when the history sent does not hold it.
 */
export function healthyRevisionsFrom(history: ReadonlyArray<{ revision: string | null; revisions?: readonly string[] }> | undefined, target: string): string[] | undefined {
  const entry = [...(history ?? [])].reverse().find((h) => h.revision === target && h.revisions !== undefined);
  return entry?.revisions ? [...entry.revisions] : undefined;
}
