import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig, routeFor } from '../../src/config/config';
import { parseRoutesFile } from '../../src/config/routes';

const env = { REPO_OWNER: 'acme', REPO_NAME: 'gitops', GH_PAT_WEBHOOK: 'gh-test-token-value', WEBHOOK_TOKEN: 'webhook-token-0123456789' };
const withRoutes = (yaml: string, extra: Record<string, string> = {}) =>
  loadConfig({ ...env, ROUTES_FILE: '/config/routes.yaml', ...extra }, (path) => {
    expect(path).toBe('/config/routes.yaml');
    return yaml;
  });

describe('routes file', () => {
  it('when the shipped example is loaded, then it is valid and resolves its apps', () => {
    const example = readFileSync(join(__dirname, '..', '..', 'deploy', 'routes.example.yaml'), 'utf8');
    const config = withRoutes(example);
    expect(routeFor(config, 'podinfo-prod')).toMatchObject({ owner: 'acme', repo: 'gitops', valuesPaths: ['charts/podinfo/values-prod.yaml'], sourceIndex: 1, matched: 'podinfo-prod' });
    expect(routeFor(config, 'team-a-web')).toMatchObject({ repo: 'team-a-gitops', eventType: 'team-a-rollback', maxPerWindow: 1, windowMinutes: 120 });
    expect(routeFor(config, 'staging-api')).toMatchObject({ dryRun: true, repo: 'gitops' });
  });

  it('when no route matches, then the environment defaults apply', () => {
    const config = withRoutes('routes:\n  - app: other\n    repo: x\n', { ROLLBACK_MAX_PER_WINDOW: '5', ROLLBACK_WINDOW_MINUTES: '15' });
    expect(routeFor(config, 'podinfo-prod')).toEqual({
      owner: 'acme', repo: 'gitops', eventType: 'argo-degraded', valuesPaths: undefined, sourceIndex: undefined, dryRun: false, maxPerWindow: 5, windowMinutes: 15, healthyGraceMs: 1_800_000, matched: undefined,
    });
  });

  it('when two routes match, then the first one wins', () => {
    const config = withRoutes('routes:\n  - app: "pod*"\n    repo: first\n  - app: podinfo-prod\n    repo: second\n');
    expect(routeFor(config, 'podinfo-prod').repo).toBe('first');
  });

  it('when DRY_RUN=true, then a route cannot switch dry run off', () => {
    const config = withRoutes('routes:\n  - app: podinfo-prod\n    dry_run: false\n', { DRY_RUN: 'true' });
    expect(routeFor(config, 'podinfo-prod').dryRun).toBe(true);
  });

  it('when the file has many mistakes, then every one is listed with where it is', () => {
    const yaml = `routes:
  - app: a
    repo: "not a repo"
    values_paths: [../x.yaml, .github/workflows/x.yml, /etc/x.yaml, notes.txt]
    source_index: -1
    rollback_max_per_window: 0
  - repo: gitops
  - app: b
    valuse_paths: [x.yaml]
`;
    const { problems } = parseRoutesFile(yaml);
    expect(problems).toEqual([
      'routes[0].repo: expected a GitHub repository name',
      'routes[0].values_paths[0]: must stay inside the repository and outside .github/',
      'routes[0].values_paths[1]: must stay inside the repository and outside .github/',
      'routes[0].values_paths[2]: must stay inside the repository and outside .github/',
      'routes[0].values_paths[3]: expected a relative path to a .yaml or .yml file (letters, digits, . _ / -)',
      'routes[0].source_index: expected a whole number from 0',
      'routes[0].rollback_max_per_window: expected a whole number from 1',
      expect.stringMatching(/^routes\[1\]\.app: /),
      expect.stringMatching(/^routes\[2\]: Unrecognized key: "valuse_paths"/),
    ]);
  });

  it('when the routes file is bad, then loadConfig lists its problems beside the other variables', () => {
    try {
      withRoutes('routes:\n  - app: a\n    repo: "bad repo"\n', { PORT: 'x' });
      throw new Error('expected a ConfigError');
    } catch (error) {
      expect((error as ConfigError).problems).toEqual([
        'PORT: expected a whole number from 0 to 65535 (got "x")',
        'ROUTES_FILE (/config/routes.yaml): routes[0].repo: expected a GitHub repository name',
      ]);
    }
  });

  it.each([
    ['not YAML', 'routes: [\n', /^not valid YAML/],
    ['not a routes file', 'apps: []\n', /routes: /],
  ])('when the file is %s, then that is the problem', (_name, yaml, message) => {
    expect(parseRoutesFile(yaml).problems[0]).toMatch(message);
  });

  it('when the routes file cannot be read, then the path and the reason are listed', () => {
    expect(() => loadConfig({ ...env, ROUTES_FILE: '/no/such/routes.yaml' })).toThrow('ROUTES_FILE: cannot read /no/such/routes.yaml: ENOENT');
  });
});
