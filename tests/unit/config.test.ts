import { generateKeyPairSync } from 'node:crypto';
import { ConfigError, loadConfig, routeFor } from '../../src/config/config';

const minimal = { REPO_OWNER: 'acme', REPO_NAME: 'gitops', GH_PAT_WEBHOOK: 'gh-test-token-value', WEBHOOK_TOKEN: 'webhook-token-0123456789' };

function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected loadConfig to throw');
}

describe('yes/no settings, read one way everywhere', () => {
  it.each([
    ['true', true], ['TRUE', true], ['1', true], ['yes', true], ['Yes', true], ['on', true], [' ON ', true],
    ['false', false], ['False', false], ['0', false], ['no', false], ['NO', false], ['off', false], ['Off', false],
  ])('when DRY_RUN=%j, then dry run is %s, and a route file reads the word the same way', (word, expected) => {
    expect(loadConfig({ ...minimal, DRY_RUN: word }).dryRun).toBe(expected);
    expect(loadConfig({ ...minimal, METRICS_APP_LABEL: word }).metrics.appLabel).toBe(expected);
    const routed = loadConfig({ ...minimal, ROUTES_FILE: '/routes.yaml' }, () => `routes:\n  - app: a\n    dry_run: "${word}"\n`);
    expect(routeFor(routed, 'a').dryRun).toBe(expected);
  });

  it.each(['maybe', 'y', '2', 'enabled'])('when DRY_RUN=%j, then it is refused with every accepted word named', (word) => {
    expect(problemsOf({ ...minimal, DRY_RUN: word })).toEqual([`DRY_RUN: expected true/false, 1/0, yes/no or on/off (got "${word}")`]);
    let problems: string[] = [];
    try {
      loadConfig({ ...minimal, ROUTES_FILE: '/routes.yaml' }, () => `routes:\n  - app: a\n    dry_run: ${word}\n`);
    } catch (error) {
      problems = (error as ConfigError).problems;
    }
    expect(problems).toEqual([expect.stringMatching(/dry_run: expected true\/false, 1\/0, yes\/no or on\/off$/)]);
  });
});

describe('loadConfig', () => {
  it('when only the required variables are set, then the documented defaults apply', () => {
    const config = loadConfig(minimal);
    expect(config).toEqual({
      github: { token: 'gh-test-token-value', app: undefined, apiUrl: 'https://api.github.com', owner: 'acme', repo: 'gitops', eventType: 'argo-degraded', timeoutMs: 10_000, logTimeoutMs: 5000, minIntervalMs: 1000, readIntervalMs: 100, checkIntervalMs: 300_000, readyRequiresGitHub: false },
      auth: { webhookToken: 'webhook-token-0123456789', adminToken: 'webhook-token-0123456789' },
      http: { port: 8080, host: '0.0.0.0', ingressRateLimitPerMinute: 600, trustProxy: false, headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 5000, maxConnections: 1000, maxConnectionsPerClient: 100 },
      databaseUrl: 'sqlite:./data/rollback.db',
      dryRun: false,
      logLevel: 'info',
      ui: { cookieSecure: false, sessionMs: 43_200_000 },
      routes: [],
      rollback: { maxPerWindow: 3, windowMinutes: 60, healthyGraceMs: 1_800_000 },
      retention: { days: 90 },
      postgres: { connectTimeoutMs: 5000, queryTimeoutMs: 10_000, idleInTransactionTimeoutMs: 30_000, keepAliveMs: 10_000, poolWaitMs: 10_000 },
      delivery: { maxAttempts: 10, retryBaseMs: 2000, leaseMs: 60_000, shutdownTimeoutMs: 10_000 },
      outcomes: { pollMs: 10_000, pollMaxMs: 120_000, runLookupMs: 600_000, verifyTimeoutMs: 1_800_000, maxRedispatch: 2, branch: 'main' },
      notify: { url: undefined, format: 'slack', maxAttempts: 20 },
      metrics: { token: 'webhook-token-0123456789', appLabel: false, maxApps: 500 },
    });
  });

  it.each([
    ['false', false],
    ['1', 1],
    ['10.0.0.0/8,loopback', ['10.0.0.0/8', 'loopback']],
    ['fd00::/8, 192.168.1.10', ['fd00::/8', '192.168.1.10']],
  ])('when TRUST_PROXY=%s, then Express gets %o', (value, expected) => {
    expect(loadConfig({ ...minimal, TRUST_PROXY: value }).http.trustProxy).toEqual(expected);
  });

  it.each(['yes', '10.0.0.0/33', 'proxy.example', '1.2.3'])('when TRUST_PROXY=%s, then it is refused with what it may be', (value) => {
    expect(problemsOf({ ...minimal, TRUST_PROXY: value })).toEqual([expect.stringMatching(/^TRUST_PROXY: expected false, a hop count/)]);
  });

  it('when the outcome and notification variables are set, then seconds may have decimals and the grace can be turned off', () => {
    const config = loadConfig({
      ...minimal,
      RUN_LOOKUP_SECONDS: '1.5',
      VERIFY_TIMEOUT_SECONDS: '3',
      ROLLBACK_HEALTHY_GRACE_SECONDS: '0',
      RESTORE_MAX_REDISPATCH: '0',
      RESTORE_BRANCH: 'release/prod',
      NOTIFY_URL: 'https://hooks.example.test/services/T000/B000/notasecretatall',
      NOTIFY_FORMAT: 'json',
    });
    expect(config.outcomes).toMatchObject({ runLookupMs: 1500, verifyTimeoutMs: 3000, maxRedispatch: 0, branch: 'release/prod' });
    expect(config.rollback.healthyGraceMs).toBe(0);
    expect(config.notify).toEqual({ url: 'https://hooks.example.test/services/T000/B000/notasecretatall', format: 'json', maxAttempts: 20 });
  });

  it('when RETENTION_DAYS would delete rollbacks the loop guard still counts, then it is refused; 0 keeps everything', () => {
    expect(problemsOf({ ...minimal, RETENTION_DAYS: '1', ROLLBACK_WINDOW_MINUTES: '2880' })).toEqual([expect.stringMatching(/^RETENTION_DAYS: must cover ROLLBACK_WINDOW_MINUTES \(2880 minutes, 2 days\)/)]);
    expect(loadConfig({ ...minimal, RETENTION_DAYS: '0', ROLLBACK_WINDOW_MINUTES: '2880' }).retention.days).toBe(0);
    expect(loadConfig({ ...minimal, RETENTION_DAYS: '2', ROLLBACK_WINDOW_MINUTES: '2880' }).retention.days).toBe(2);
  });

  it('when the outcome and notification variables are wrong, then each is listed, and NOTIFY_URL is never echoed', () => {
    const problems = problemsOf({ ...minimal, OUTCOME_POLL_MS: '5000', OUTCOME_POLL_MAX_MS: '1000', RUN_LOOKUP_SECONDS: '-1', NOTIFY_URL: 'ftp://secret-hook', NOTIFY_FORMAT: 'xml', RESTORE_BRANCH: 'a..b' });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^RUN_LOOKUP_SECONDS: expected a number of seconds/),
        expect.stringMatching(/^NOTIFY_URL: expected an http\(s\) URL/),
        expect.stringMatching(/^NOTIFY_FORMAT: expected slack or json/),
        expect.stringMatching(/^RESTORE_BRANCH: expected a branch name/),
        expect.stringMatching(/^OUTCOME_POLL_MAX_MS: must be at least OUTCOME_POLL_MS/),
      ]),
    );
    expect(problems.join('\n')).not.toContain('secret-hook');
  });

  it('when the config is loaded, then it is frozen all the way down', () => {
    const config = loadConfig(minimal);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.github)).toBe(true);
  });

  it('when the seed names are set, then they drive the GitHub target', () => {
    const config = loadConfig({ ...minimal, WEBHOOK_EVENT: 'rollback', GITHUB_API_URL: 'https://ghe.example.com/api/v3/' });
    expect(config.github).toMatchObject({ eventType: 'rollback', apiUrl: 'https://ghe.example.com/api/v3', owner: 'acme', repo: 'gitops' });
  });

  it('when everything is wrong at once, then every problem is listed in one error', () => {
    const problems = problemsOf({ PORT: 'eighty', DRY_RUN: 'maybe', LOG_LEVEL: 'loud', DELIVERY_MAX_ATTEMPTS: '0', GITHUB_API_URL: 'ftp://x', ROLLBACK_WINDOW_MINUTES: '0' });
    const names = problems.map((p) => p.split(':')[0]);
    expect(names).toEqual(
      expect.arrayContaining(['REPO_OWNER', 'REPO_NAME', 'WEBHOOK_TOKEN', 'PORT', 'DRY_RUN', 'LOG_LEVEL', 'DELIVERY_MAX_ATTEMPTS', 'GITHUB_API_URL', 'ROLLBACK_WINDOW_MINUTES']),
    );
    expect(problems.find((p) => p.startsWith('PORT'))).toBe('PORT: expected a whole number from 0 to 65535 (got "eighty")');
  });

  it('when DRY_RUN is off and no GitHub token is set, then the token is reported missing with the permission it needs', () => {
    const { GH_PAT_WEBHOOK: _omit, ...rest } = minimal;
    expect(problemsOf(rest)).toEqual([expect.stringMatching(/^GH_PAT_WEBHOOK: required unless DRY_RUN=true.*Contents: read and write/)]);
  });

  it('when DRY_RUN is on, then no GitHub token is needed', () => {
    const { GH_PAT_WEBHOOK: _omit, ...rest } = minimal;
    expect(loadConfig({ ...rest, DRY_RUN: 'true' }).dryRun).toBe(true);
  });

  it('when secrets are invalid, then their values never appear in the message', () => {
    try {
      loadConfig({ ...minimal, WEBHOOK_TOKEN: 'shortsecret', ADMIN_TOKEN: 'adminsecret', PORT: 'x' });
      throw new Error('expected a ConfigError');
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toMatch(/WEBHOOK_TOKEN: expected at least 16 characters/);
      expect(message).toMatch(/ADMIN_TOKEN/);
      expect(message).not.toContain('shortsecret');
      expect(message).not.toContain('adminsecret');
    }
  });

  it('when the lease is not longer than the GitHub timeout, then that is a problem', () => {
    expect(problemsOf({ ...minimal, DELIVERY_LEASE_MS: '5000', GITHUB_TIMEOUT_MS: '5000' })).toEqual([
      expect.stringMatching(/^DELIVERY_LEASE_MS: must be longer than GITHUB_TIMEOUT_MS/),
    ]);
  });

  it('when a GitHub App is set, then the lease must outlive three requests (installation lookup, token, dispatch)', () => {
    const { GH_PAT_WEBHOOK: _omit, ...rest } = minimal;
    const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    const app = { ...rest, GITHUB_APP_ID: '12345', GITHUB_APP_PRIVATE_KEY_FILE: '/run/secrets/app.pem', GITHUB_TIMEOUT_MS: '10000' };
    expect(() => loadConfig({ ...app, DELIVERY_LEASE_MS: '30000' }, () => pem)).toThrow(/DELIVERY_LEASE_MS: must be longer than 3 × GITHUB_TIMEOUT_MS \(30000\) with a GitHub App/);
    expect(loadConfig({ ...app, DELIVERY_LEASE_MS: '30001' }, () => pem).delivery.leaseMs).toBe(30_001);
    // With a PAT one dispatch is one request.
    expect(loadConfig({ ...minimal, GITHUB_TIMEOUT_MS: '10000', DELIVERY_LEASE_MS: '10001' }).delivery.leaseMs).toBe(10_001);
  });

  it.each(['0', '59.9'])('when GITHUB_CHECK_INTERVAL_SECONDS is %s, then it is refused: checks outside the token pace at least a minute apart', (value) => {
    expect(problemsOf({ ...minimal, GITHUB_CHECK_INTERVAL_SECONDS: value })).toEqual([`GITHUB_CHECK_INTERVAL_SECONDS: expected a number of seconds from 60 to 86400 (got "${value}")`]);
  });

  it('when DATABASE_URL is neither sqlite: nor postgres://, then it is refused without echoing it (it may hold a password)', () => {
    expect(problemsOf({ ...minimal, DATABASE_URL: 'mysql://root:hunter2@db/x' })).toEqual([
      'DATABASE_URL: expected sqlite:<path>, sqlite::memory: or postgres://user:password@host:5432/database',
    ]);
  });

  it.each(['postgres://rollback:pw@db:5432/rollback', 'postgresql://db/rollback?sslmode=require', 'sqlite::memory:'])('when DATABASE_URL is %s, then it is accepted', (url) => {
    expect(loadConfig({ ...minimal, DATABASE_URL: url }).databaseUrl).toBe(url);
  });

  it('when VALUES_PATHS is set (commas or newlines), then apps without a route restore those paths, and a route still wins', () => {
    const routes = 'routes:\n  - app: web\n    values_paths: [web/values.yaml]\n';
    const config = loadConfig({ ...minimal, VALUES_PATHS: ' charts/app/values.yaml,\ncharts/app/values-prod.yml ,', ROUTES_FILE: '/routes.yaml' }, () => routes);
    expect(config.github.valuesPaths).toEqual(['charts/app/values.yaml', 'charts/app/values-prod.yml']);
    expect(routeFor(config, 'api').valuesPaths).toEqual(['charts/app/values.yaml', 'charts/app/values-prod.yml']);
    expect(routeFor(config, 'web').valuesPaths).toEqual(['web/values.yaml']);
    expect(loadConfig(minimal).github.valuesPaths).toBeUndefined();
  });

  const OUTSIDE = 'must stay inside the repository and outside .github/';
  const NOT_YAML = 'expected a relative path to a .yaml or .yml file (letters, digits, . _ / -)';
  it.each([
    ['../outside.yaml', OUTSIDE],
    ['.github/workflows/rollback.yml', OUTSIDE],
    ['/etc/values.yaml', OUTSIDE],
    ['charts/values.json', NOT_YAML],
    ['charts/my values.yaml', NOT_YAML],
  ])('when VALUES_PATHS holds %s, then the start is refused: the workflow would refuse it', (path, message) => {
    expect(problemsOf({ ...minimal, VALUES_PATHS: `ok/values.yaml,${path}` })).toEqual([`VALUES_PATHS: ${JSON.stringify(path)}: ${message} (the workflow would refuse it)`]);
  });

  it('when VALUES_PATHS holds only separators, then it is refused', () => {
    expect(problemsOf({ ...minimal, VALUES_PATHS: ' , ,' })).toEqual(['VALUES_PATHS: expected one or more paths separated by commas or newlines']);
  });

  it('when required variables are present but empty (a bare KEY= line, or ${KEY:-} in compose), then each is reported as required, by name', () => {
    const problems = problemsOf({ REPO_OWNER: '', REPO_NAME: ' ', GH_PAT_WEBHOOK: '', WEBHOOK_TOKEN: '', ADMIN_TOKEN: '', DRY_RUN: '', LOG_LEVEL: '' });
    expect(problems).toEqual([
      expect.stringMatching(/^REPO_OWNER: required/),
      expect.stringMatching(/^REPO_NAME: required/),
      expect.stringMatching(/^WEBHOOK_TOKEN: required/),
      expect.stringMatching(/^GH_PAT_WEBHOOK: required unless DRY_RUN=true/),
    ]);
  });

  it('when REQUIRE_ADMIN_TOKEN=true (the compose file and the Kubernetes base set it), then a missing ADMIN_TOKEN is named instead of defaulted', () => {
    expect(problemsOf({ ...minimal, REQUIRE_ADMIN_TOKEN: 'true' })).toEqual([expect.stringMatching(/^ADMIN_TOKEN: required here \(REQUIRE_ADMIN_TOKEN=true\)/)]);
    expect(loadConfig({ ...minimal, REQUIRE_ADMIN_TOKEN: 'true', ADMIN_TOKEN: 'admin-token-0123456789' }).auth.adminToken).toBe('admin-token-0123456789');
    expect(loadConfig(minimal).auth.adminToken).toBe(minimal.WEBHOOK_TOKEN);
  });

  it('when ADMIN_TOKEN is set, then it guards the events API instead of WEBHOOK_TOKEN', () => {
    expect(loadConfig({ ...minimal, ADMIN_TOKEN: 'admin-token-0123456789' }).auth.adminToken).toBe('admin-token-0123456789');
  });
});
