import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { createApp } from '../../src/app';
import { loadConfig } from '../../src/config/config';
import { createGitHubClient } from '../../src/github/github-client';
import { patTokens } from '../../src/github/token-provider';
import { WiringMonitor, configuredRepositories } from '../../src/github/wiring-check';
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
    const metrics = createMetrics({ store, clock, appLabel: false });
    const wiring = new WiringMonitor(createGitHubClient({ apiUrl: github.url, tokens: patTokens(github.url, GITHUB_TOKEN), timeoutMs: 2000 }), configuredRepositories(config), logger, metrics, 60_000);
    await wiring.checkNow();
    const app = createApp({ config, logger, store, clock, metrics, wiring });
    return { app, wiring, logs };
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

  it('when READY_REQUIRES_GITHUB=true and the wiring is broken, then /readyz answers 503 GITHUB_NOT_READY', async () => {
    const { app } = await setup({ token: 'another-token', repos: ['acme/gitops'] }, { READY_REQUIRES_GITHUB: 'true' });
    const ready = await request(app).get('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.error.code).toBe('GITHUB_NOT_READY');
  });
});
