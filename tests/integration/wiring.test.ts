import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { createApp } from '../../src/app';
import { loadConfig } from '../../src/config/config';
import { createGitHubClient } from '../../src/github/github-client';
import { patTokens } from '../../src/github/token-provider';
import { WiringMonitor, configuredRepositories } from '../../src/github/wiring-check';
import { listRecentRepositories } from '../../src/store/events.repository';
import { KIND_APPS, toStateBody } from '../support/argocd-fixtures';
import { until } from '../support/until';
import { createLogger } from '../../src/logger';
import { createMetrics } from '../../src/metrics/metrics';
import { openStore, type Store } from '../../src/store/database';
import { FakeGitHub } from '../support/fake-github';
import { ADMIN_TOKEN, GITHUB_TOKEN, LogCapture, WEBHOOK_TOKEN, createScaledClock } from '../support/harness';

/** The wiring check against the fake GitHub: what it reports in /readyz, /v1/status, logs and metrics. */
describe('GitHub wiring checked at start', () => {
  let github: FakeGitHub;
  let store: Store;
  let dir: string;
  const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };

  afterEach(async () => {
    await store.close();
    await github.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function setup(fake: ConstructorParameters<typeof FakeGitHub>[0], env: Record<string, string> = {}) {
    github = await new FakeGitHub(fake).start();
    dir = mkdtempSync(join(tmpdir(), 'wiring-'));
    const routes = join(dir, 'routes.yaml');
    writeFileSync(routes, 'routes:\n  - app: "team-a-*"\n    repo: team-a-gitops\n');
    const config = loadConfig({ REPO_OWNER: 'acme', REPO_NAME: 'gitops', GH_PAT_WEBHOOK: GITHUB_TOKEN, GITHUB_API_URL: github.url, WEBHOOK_TOKEN, ADMIN_TOKEN, DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`, ROUTES_FILE: routes, ...env });
    store = openStore(config.databaseUrl);
    await store.migrate();
    const logs = new LogCapture();
    const logger = createLogger('info', logs);
    const clock = createScaledClock(1);
    const metrics = createMetrics({ store, clock, appLabel: false, maxApps: 500 });
    const client = createGitHubClient({ apiUrl: github.url, tokens: patTokens(github.url, GITHUB_TOKEN), timeoutMs: 2000 });
    const recent = () => listRecentRepositories(store.db, 0);
    const wiring = new WiringMonitor(client, configuredRepositories(config), logger, metrics, 60_000, clock, recent);
    await wiring.checkNow();
    const app = createApp({ config, logger, store, clock, metrics, wiring });
    const replica = () => new WiringMonitor(client, configuredRepositories(config), logger, undefined, 60_000, clock, recent);
    return { app, wiring, logs, replica };
  }

  it('when the token can see, dispatch to and read Actions of every routed repository, then status and readiness say so', async () => {
    const { app } = await setup({ token: GITHUB_TOKEN, repos: ['acme/gitops', 'acme/team-a-gitops'] });
    const status = (await request(app).get('/v1/status').set(admin)).body as { github: { ok: boolean; checks: unknown[] }; routes: unknown; version: string; store: string };
    expect(status).toMatchObject({ version: expect.stringMatching(/^\d+\.\d+\.\d+/), store: 'sqlite', routes: { loaded: 1, apps: ['team-a-*'] }, github: { ok: true } });
    expect(status.github.checks).toHaveLength(6);
    const ready = await request(app).get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.github).toMatchObject({ ok: true, failing: [] });
  });

  it('when one repository is unknown, another read-only and Actions unreadable, then each failure is named with its remedy, logged once, exported, and /readyz stays 200', async () => {
    const { app, wiring, logs } = await setup({ token: GITHUB_TOKEN, repos: ['acme/gitops'], readOnly: ['acme/gitops'], actionsDenied: ['acme/gitops'] });
    await wiring.checkNow();
    const status = (await request(app).get('/v1/status').set(admin)).body as { github: { ok: boolean; checks: Array<{ repository: string; check: string; ok: boolean; detail: string }> } };
    expect(status.github.ok).toBe(false);
    expect(status.github.checks.filter((c) => !c.ok).map((c) => [c.repository, c.check, c.detail])).toEqual([
      ['acme/gitops', 'dispatch', expect.stringMatching(/needs Contents: read and write/)],
      ['acme/gitops', 'actions', expect.stringMatching(/^GitHub answered 403.*needs Actions: read/)],
      ['acme/team-a-gitops', 'repository', expect.stringMatching(/^GitHub answered 404.*check REPO_OWNER\/REPO_NAME/)],
    ]);
    // Two checks ran; each broken check was logged once, at error.
    expect(logs.entries.filter((e) => e.level === 50 && String(e.msg).startsWith('GitHub wiring broken'))).toHaveLength(3);
    expect((await request(app).get('/readyz')).status).toBe(200);
    const metrics = (await request(app).get('/metrics').set(admin)).text;
    expect(metrics).toContain('rollback_github_check_ok{repository="acme/gitops",check="actions"} 0');
    expect(metrics).toContain('rollback_github_check_ok{repository="acme/gitops",check="repository"} 1');
  });

  it("when a rollback goes to a repository no configuration names (an Application's source), then it is checked at once, shown in /v1/status, and another replica checks it too", async () => {
    const { app, wiring, replica } = await setup({ token: GITHUB_TOKEN, repos: ['acme/gitops', 'acme/team-a-gitops'] });
    const app2 = KIND_APPS.valuesElsewhere(); // its values live in acme/helm-values, which the token cannot see
    const res = await request(app).post('/v1/webhooks/argocd').set({ Authorization: `Bearer ${WEBHOOK_TOKEN}` }).send(toStateBody(app2));
    expect(res.status).toBe(202);
    expect(res.body.restore).toEqual([expect.objectContaining({ repository: 'acme/helm-values' })]);
    await until(() => Promise.resolve(wiring.current()?.checks.some((c) => c.repository === 'acme/helm-values') ?? false), 'the new repository checked');
    const status = (await request(app).get('/v1/status').set(admin)).body as { github: { ok: boolean; checks: Array<{ repository: string; check: string; ok: boolean; detail: string }> } };
    expect(status.github.ok).toBe(false);
    expect(status.github.checks.filter((c) => !c.ok).map((c) => [c.repository, c.check, c.detail])).toEqual([['acme/helm-values', 'repository', expect.stringMatching(/^GitHub answered 404/)]]);
    // A replica that did not take the request finds the repository in the store's recent events.
    const other = replica();
    await other.checkNow();
    expect(other.current()?.checks.map((c) => c.repository)).toContain('acme/helm-values');
  });

  it('when READY_REQUIRES_GITHUB=true and the wiring is broken, then /readyz answers 503 GITHUB_NOT_READY', async () => {
    const { app } = await setup({ token: 'another-token', repos: ['acme/gitops'] }, { READY_REQUIRES_GITHUB: 'true' });
    const ready = await request(app).get('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.error.code).toBe('GITHUB_NOT_READY');
  });
});
