import { chartOnlyChange, healthyRevisionsFrom, parseRepoUrl, pathsPayload, planRestore, restorePathProblem, type AppSource, type RestoreInput } from '../../src/domain/restore-plan';

const H = 'a'.repeat(40);
const F = 'f'.repeat(40);
const H2 = 'c'.repeat(40);
const F2 = 'd'.repeat(40);
const HOSTS = ['github.com', 'ghe.example.com'];

const source = (s: Partial<AppSource>): AppSource => ({ repoURL: 'https://github.com/acme/gitops.git', path: '', targetRevision: 'main', chart: '', ref: '', valueFiles: [], type: '', ...s });
const helm = source({ path: 'charts/podinfo', valueFiles: ['values-prod.yaml', 'values-common.yaml'], type: 'Helm' });
const kustomize = source({ path: 'apps/web/overlays/prod', type: 'Kustomize' });
const directory = source({ path: 'apps/plain', type: 'Directory' });
const chartRepo = source({ repoURL: 'https://stefanprodan.github.io/podinfo', chart: 'podinfo', targetRevision: '6.9.0', valueFiles: ['$values/charts/podinfo/values-prod.yaml'], type: 'Helm' });
const valuesRef = (repoURL = 'https://github.com/acme/gitops.git') => source({ repoURL, ref: 'values' });

const base: RestoreInput = { app: 'podinfo-prod', sourceIndex: 0, healthyRevision: H, route: { owner: 'acme', repo: 'gitops' }, githubHosts: HOSTS };

describe('parseRepoUrl', () => {
  const cases: Array<[string, ReturnType<typeof parseRepoUrl>]> = [
    ['https://github.com/acme/gitops.git', { owner: 'acme', repo: 'gitops' }],
    ['https://github.com/acme/gitops', { owner: 'acme', repo: 'gitops' }],
    ['https://github.com/acme/gitops/', { owner: 'acme', repo: 'gitops' }],
    ['HTTPS://GitHub.com/Acme/GitOps.git', { owner: 'Acme', repo: 'GitOps' }],
    ['git@github.com:acme/gitops.git', { owner: 'acme', repo: 'gitops' }],
    ['ssh://git@github.com/acme/gitops.git', { owner: 'acme', repo: 'gitops' }],
    ['ssh://git@ghe.example.com:2222/team/values', { owner: 'team', repo: 'values' }],
    ['https://ghe.example.com/team/values.git', { owner: 'team', repo: 'values' }],
  ];
  it.each(cases)('when the repoURL is %s, then it is %j', (url, expected) => {
    expect(parseRepoUrl(url, HOSTS)).toEqual(expected);
  });

  it.each([
    ['https://gitlab.com/acme/gitops.git', /is on gitlab\.com, not on github\.com or ghe\.example\.com/],
    ['git@bitbucket.org:acme/gitops.git', /is on bitbucket\.org/],
    ['https://github.com/acme', /is not a GitHub repository URL/],
    ['oci://ghcr.io/acme/charts', /is not a GitHub repository URL/],
  ])('when the repoURL is %s, then it is refused by name', (url, reason) => {
    const result = parseRepoUrl(url, HOSTS);
    expect(result).toEqual({ problem: expect.stringMatching(reason) });
    expect((result as { problem: string }).problem).toContain(url);
  });
});

describe('restorePathProblem', () => {
  it.each([
    ['charts/podinfo/values.yaml', undefined],
    ['apps/web', undefined],
    ['.argocd-source-web.yaml', undefined],
    ['../other', 'leaves the repository'],
    ['/etc/passwd', 'leaves the repository'],
    ['.github/workflows', 'nothing under .github/ is restored'],
    ['.git/config', 'the .git folder is not content'],
    ['apps/$(rm)', 'only letters, digits, . _ / - are allowed'],
  ])('when the path is %s, then the problem is %s', (path, problem) => {
    expect(restorePathProblem(path)).toBe(problem);
  });
});

describe('planRestore', () => {
  const cases: Array<{ name: string; input: Partial<RestoreInput>; expected: unknown }> = [
    {
      name: 'a body without sources and no VALUES_PATHS: the workflow default in the route repository',
      input: {},
      expected: { kind: 'restore', notes: [], targets: [{ owner: 'acme', repo: 'gitops', healthyRevision: H, from: 'workflow default', paths: [] }] },
    },
    {
      name: 'a body without sources and VALUES_PATHS',
      input: { route: { owner: 'acme', repo: 'gitops', valuesPaths: ['a.yaml'], valuesPathsFrom: 'VALUES_PATHS' } },
      expected: { kind: 'restore', targets: [{ from: 'VALUES_PATHS', paths: [{ path: 'a.yaml', why: 'VALUES_PATHS (the body names no sources)' }] }] },
    },
    {
      name: 'sources and VALUES_PATHS: the Application wins over the fallback',
      input: { sources: [kustomize], route: { owner: 'acme', repo: 'gitops', valuesPaths: ['a.yaml'], valuesPathsFrom: 'VALUES_PATHS' } },
      expected: { kind: 'restore', targets: [{ from: 'application', paths: [{ path: 'apps/web/overlays/prod' }] }] },
    },
    {
      name: "sources and a route's values_paths: the route overrides, in the route's repository",
      input: { sources: [kustomize], route: { owner: 'team', repo: 'other', pattern: 'web-*', valuesPaths: ['x.yaml'], valuesPathsFrom: 'route' } },
      expected: { kind: 'restore', targets: [{ owner: 'team', repo: 'other', from: 'route', paths: [{ path: 'x.yaml', why: 'values_paths of the route web-*' }] }] },
    },
    {
      name: 'a Helm source in git: its value files relative to its path, and the write-back file',
      input: { sources: [helm], failedRevisions: [F] },
      expected: {
        kind: 'restore',
        notes: [],
        targets: [
          {
            owner: 'acme',
            repo: 'gitops',
            healthyRevision: H,
            from: 'application',
            paths: [
              { path: 'charts/podinfo/values-prod.yaml', why: expect.stringMatching(/^Helm value file values-prod\.yaml of source 0/) },
              { path: 'charts/podinfo/values-common.yaml', why: expect.stringMatching(/^Helm value file values-common\.yaml/) },
              { path: 'charts/podinfo/.argocd-source-podinfo-prod.yaml', why: expect.stringMatching(/Image Updater/) },
            ],
          },
        ],
      },
    },
    {
      name: 'a Helm source in git without value files: the whole chart path',
      input: { sources: [source({ path: 'charts/web/', type: 'Helm' })] },
      expected: { kind: 'restore', targets: [{ paths: [{ path: 'charts/web', why: expect.stringMatching(/whole path of source 0 .*\(Helm\)/) }] }] },
    },
    {
      name: 'a Kustomize source: the whole path',
      input: { sources: [kustomize] },
      expected: { kind: 'restore', targets: [{ paths: [{ path: 'apps/web/overlays/prod', why: expect.stringMatching(/\(Kustomize\)$/) }] }] },
    },
    {
      name: 'a directory source with ./ in its path',
      input: { sources: [source({ path: './apps/plain/', type: 'Directory' })] },
      expected: { kind: 'restore', targets: [{ paths: [{ path: 'apps/plain' }] }] },
    },
    {
      name: 'a source at the repository root: refused, nothing else to restore',
      input: { sources: [source({ path: '.', type: 'Directory' })] },
      expected: { kind: 'not_restorable', reason: expect.stringMatching(/repository root/) },
    },
    {
      name: 'a value file that climbs out of the repository',
      input: { sources: [source({ path: 'charts/web', valueFiles: ['../../../etc/x.yaml', '../shared/common.yaml', 'ok.yaml'], type: 'Helm' })] },
      expected: {
        kind: 'restore',
        notes: [expect.stringMatching(/^\.\.\/etc\/x\.yaml .*leaves the repository/)],
        targets: [{ paths: [{ path: 'charts/shared/common.yaml' }, { path: 'charts/web/ok.yaml' }, expect.objectContaining({ path: 'charts/web/.argocd-source-podinfo-prod.yaml' })] }],
      },
    },
    {
      name: 'a repository on another host: refused by name',
      input: { sources: [source({ repoURL: 'https://gitlab.com/acme/gitops.git', path: 'apps/web', type: 'Kustomize' })] },
      expected: { kind: 'not_restorable', reason: expect.stringMatching(/gitlab\.com\/acme\/gitops\.git.*is on gitlab\.com/) },
    },
    {
      name: 'multi-source: chart repository + $values in the same repository; only the values changed',
      input: { sources: [chartRepo, valuesRef()], sourceIndex: 1, failedRevisions: ['6.9.0', F], healthyRevisions: ['6.9.0', H] },
      expected: { kind: 'restore', notes: [], targets: [{ owner: 'acme', repo: 'gitops', healthyRevision: H, paths: [{ path: 'charts/podinfo/values-prod.yaml', why: expect.stringMatching(/^value file \$values\/charts\/podinfo\/values-prod\.yaml of source 0 .*from source 1/) }] }] },
    },
    {
      name: 'multi-source: $values in a second repository',
      input: { sources: [chartRepo, valuesRef('git@github.com:acme/helm-values.git')], sourceIndex: 1, failedRevisions: ['6.9.0', F], healthyRevisions: ['6.9.0', H] },
      expected: { kind: 'restore', targets: [{ owner: 'acme', repo: 'helm-values', healthyRevision: H, paths: [{ path: 'charts/podinfo/values-prod.yaml' }] }] },
    },
    {
      name: 'multi-source: the chart and the values both changed; the chart is noted',
      input: { sources: [chartRepo, valuesRef()], sourceIndex: 1, failedRevisions: ['6.9.1', F], healthyRevisions: ['6.9.0', H] },
      expected: { kind: 'restore', notes: [expect.stringMatching(/^source 0 \(chart podinfo .*\): a chart version \(6\.9\.1\) from a chart repository; no commit can undo it$/)], targets: [{ paths: [{ path: 'charts/podinfo/values-prod.yaml' }] }] },
    },
    {
      name: 'multi-source: two git repositories changed, one dispatch each, the keyed one first',
      input: {
        sources: [source({ repoURL: 'https://github.com/acme/charts', path: 'web', valueFiles: ['$values/web/prod.yaml'], type: 'Helm' }), valuesRef('https://github.com/acme/values')],
        sourceIndex: 0,
        failedRevisions: [F, F2],
        healthyRevisions: [H, H2],
      },
      expected: {
        kind: 'restore',
        targets: [
          { owner: 'acme', repo: 'charts', healthyRevision: H, paths: [{ path: 'web', why: expect.stringMatching(/^the whole path of source 0/) }] },
          { owner: 'acme', repo: 'values', healthyRevision: H2, paths: [{ path: 'web/prod.yaml' }] },
        ],
      },
    },
    {
      name: 'multi-source: the second repository unchanged, only the first restored',
      input: { sources: [source({ repoURL: 'https://github.com/acme/charts', path: 'web', type: 'Helm' }), valuesRef('https://github.com/acme/values')], sourceIndex: 0, failedRevisions: [F, H2], healthyRevisions: [H, H2] },
      expected: { kind: 'restore', targets: [{ repo: 'charts' }] },
    },
    {
      name: "multi-source: another repository's healthy commit unknown (not in the history sent)",
      input: { sources: [kustomize, source({ repoURL: 'https://github.com/acme/values', path: 'x', type: 'Directory' })], sourceIndex: 0, failedRevisions: [F, F2] },
      expected: { kind: 'restore', notes: [expect.stringMatching(/^source 1 .*its healthy commit is not known/)], targets: [{ repo: 'gitops', paths: [{ path: 'apps/web/overlays/prod' }] }] },
    },
    {
      name: 'multi-source in one repository on one branch: both paths at the one healthy commit',
      input: { sources: [kustomize, directory], sourceIndex: 0, failedRevisions: [F, F] },
      expected: { kind: 'restore', targets: [{ healthyRevision: H, paths: [{ path: 'apps/web/overlays/prod' }, { path: 'apps/plain' }] }] },
    },
    {
      name: 'an app name with / gets no write-back file (Image Updater names it after the app)',
      input: { app: 'team/web', sources: [helm] },
      expected: { kind: 'restore', targets: [{ paths: [{ path: 'charts/podinfo/values-prod.yaml' }, { path: 'charts/podinfo/values-common.yaml' }] }] },
    },
  ];

  it.each(cases)('when $name', ({ input, expected }) => {
    const plan = planRestore({ ...base, ...input });
    expect(plan).toMatchObject(expected as object);
    if (plan.kind === 'restore' && (expected as { targets?: Array<{ paths?: unknown[] }> }).targets) {
      // toMatchObject accepts longer arrays: the paths listed are exactly the paths planned.
      expect(plan.targets.map((t) => t.paths.length)).toEqual((expected as { targets: Array<{ paths?: unknown[] }> }).targets.map((t, i) => t.paths?.length ?? plan.targets[i]!.paths.length));
    }
  });

  it('when the target comes from the application, then its paths travel as restore_paths; from a route, as values_paths', () => {
    const app = planRestore({ ...base, sources: [kustomize, directory], failedRevisions: [F, F] });
    expect(app.kind === 'restore' && pathsPayload(app.targets[0]!)).toEqual({ restore_paths: 'apps/web/overlays/prod\napps/plain' });
    const route = planRestore({ ...base, route: { owner: 'acme', repo: 'gitops', valuesPaths: ['a.yaml', 'b.yaml'], valuesPathsFrom: 'route' } });
    expect(route.kind === 'restore' && pathsPayload(route.targets[0]!)).toEqual({ values_paths: 'a.yaml\nb.yaml' });
    const fallback = planRestore(base);
    expect(fallback.kind === 'restore' && pathsPayload(fallback.targets[0]!)).toEqual({});
  });
});

describe('chartOnlyChange', () => {
  const sources = [chartRepo, valuesRef()];
  it.each([
    { name: 'only the chart moved', failed: ['6.9.1', F], history: [['6.9.0', H], ['6.9.0', F]], expected: /^only the chart version changed: podinfo 6\.9\.0 → 6\.9\.1 \(https:\/\/stefanprodan\.github\.io\/podinfo\)/ },
    { name: 'the values moved', failed: ['6.9.0', F], history: [['6.9.0', H], ['6.9.0', F]], expected: undefined },
    { name: 'both moved', failed: ['6.9.1', F], history: [['6.9.0', H], ['6.9.1', F]], expected: undefined },
    { name: 'no earlier entry differs', failed: ['6.9.0', F], history: [['6.9.0', F]], expected: undefined },
  ])('when $name', ({ failed, history, expected }) => {
    const reason = chartOnlyChange({ sources, failedRevisions: failed, history: history.map((revisions) => ({ revisions })) });
    if (expected === undefined) expect(reason).toBeUndefined();
    else expect(reason).toMatch(expected);
  });

  it('when the app has one source, then it is never a chart-only change (a chart-only app is not_restorable at parse)', () => {
    expect(chartOnlyChange({ sources: [helm], failedRevisions: [F], history: [{ revisions: [H] }] })).toBeUndefined();
  });
});

describe('healthyRevisionsFrom', () => {
  it('when the target is in the history, then its entry gives every source its revision; else undefined', () => {
    const history = [
      { revision: H, revisions: ['6.9.0', H] },
      { revision: F, revisions: ['6.9.0', F] },
    ];
    expect(healthyRevisionsFrom(history, H)).toEqual(['6.9.0', H]);
    expect(healthyRevisionsFrom(history, H2)).toBeUndefined();
    expect(healthyRevisionsFrom(undefined, H)).toBeUndefined();
  });
});
