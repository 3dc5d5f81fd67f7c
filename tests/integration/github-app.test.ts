import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { ConfigError, loadConfig } from '../../src/config/config';
import { findEvent } from '../../src/store/events.repository';
import { WEBHOOK_TOKEN, createHarness, failedRevision, seedBody, type Harness } from '../support/harness';

// A key made for this run only: nothing in the repository looks like a real one.
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
const APP_ID = 424242;
const webhook = { Authorization: `Bearer ${WEBHOOK_TOKEN}` };

describe('GitHub App authentication', () => {
  let h: Harness;
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'github-app-'));
  });
  afterEach(async () => {
    // No token, JWT or key in any log line.
    expect(h.logs.text()).not.toContain('fake-installation-token');
    expect(h.logs.text()).not.toMatch(/eyJ[A-Za-z0-9_-]{20,}/);
    expect(h.logs.text()).not.toContain(privateKey.split('\n')[1]!);
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(app: { tokenTtlMs?: number; revoked?: number[] } = {}, env: Record<string, string> = {}, wiringCheck = false) {
    const routes = join(dir, 'routes.yaml');
    writeFileSync(routes, 'routes:\n  - app: "team-a-*"\n    repo: team-a-gitops\n');
    h = await createHarness({
      repos: ['acme/gitops', 'acme/team-a-gitops'],
      githubApp: { id: APP_ID, publicKey, installations: { 'acme/gitops': 11, 'acme/team-a-gitops': 22 }, ...app },
      env: { GH_PAT_WEBHOOK: '', GITHUB_APP_ID: String(APP_ID), GITHUB_APP_PRIVATE_KEY: privateKey, ROUTES_FILE: routes, ...env },
      service: { wiringCheck },
    });
  }
  const rollback = async (app: string, n: number) => {
    const res = await request(h.app).post('/v1/webhooks/argocd').set(webhook).send(seedBody({ app, failed_revision: failedRevision(n) }));
    expect(res.status).toBe(202);
    return res.body.id as string;
  };
  const tokenOf = (i: number) => String(h.github.received[i]!.headers.authorization).replace('Bearer ', '');

  it('when rollbacks go to repositories of two installations, then each dispatch carries its installation’s token, found per repository', async () => {
    await start();
    const a = await rollback('podinfo-prod', 1);
    await h.waitForStatus(a, 'delivered');
    const b = await rollback('team-a-web', 2);
    await h.waitForStatus(b, 'delivered');
    const issued = h.github.installationTokens;
    expect(issued.map((t) => t.installationId)).toEqual([11, 22]);
    expect([tokenOf(0), tokenOf(1)]).toEqual([issued[0]!.token, issued[1]!.token]);
    expect(h.github.received.map((r) => `${r.owner}/${r.repo}`)).toEqual(['acme/gitops', 'acme/team-a-gitops']);
  });

  it('when the installation token nears the expires_at GitHub gave, then a new one is fetched before it expires, and the dispatch never uses an expired token', async () => {
    await start({ tokenTtlMs: 1200 });
    await h.waitForStatus(await rollback('podinfo-prod', 1), 'delivered');
    const first = h.github.installationTokens[0]!;
    // A quarter of the lifetime early: renewal is due 300 ms before expiry. Wait until then.
    for (const deadline = Date.now() + 3000; Date.now() < first.expiresAt - 250 && Date.now() < deadline; await new Promise((r) => setTimeout(r, 20)));
    const second = await rollback('podinfo-prod', 2);
    await h.waitForStatus(second, 'delivered');
    expect(h.github.installationTokens).toHaveLength(2);
    expect(tokenOf(1)).toBe(h.github.installationTokens[1]!.token);
    expect(h.github.received.map((r) => r.status)).toEqual([204, 204]);
  });

  it('when the App is reinstalled (a new installation id) while its token is cached, then the next rollback finds the new installation and is delivered, without a restart', async () => {
    await start();
    await h.waitForStatus(await rollback('podinfo-prod', 1), 'delivered');
    h.github.reinstallApp('acme/gitops', 33);
    const second = await rollback('podinfo-prod', 2);
    await h.waitForStatus(second, 'delivered');
    // The cached token of installation 11 was refused (401, not acted on), the installation looked up again.
    expect(h.github.received.map((r) => r.status)).toEqual([204, 401, 204]);
    expect(h.github.installationTokens.map((t) => t.installationId)).toEqual([11, 33]);
    expect(tokenOf(2)).toBe(h.github.installationTokens[1]!.token);
    expect(h.github.accepted()).toHaveLength(2);
    expect((await findEvent(h.store.db, second))!.attempts).toEqual([expect.objectContaining({ statusCode: 204, outcome: 'delivered' })]);
  });

  it('when the App is reinstalled while its token needs renewing, then the old installation’s 404 sends the service to look it up again, once', async () => {
    await start({ tokenTtlMs: 400 });
    await h.waitForStatus(await rollback('podinfo-prod', 1), 'delivered');
    const first = h.github.installationTokens[0]!;
    // Past the renewal point (a quarter of the lifetime early): the next dispatch asks for a new token.
    while (Date.now() < first.expiresAt - 50) await new Promise((r) => setTimeout(r, 20));
    h.github.reinstallApp('acme/gitops', 33);
    await h.waitForStatus(await rollback('podinfo-prod', 2), 'delivered');
    expect(h.github.installationTokens.map((t) => t.installationId)).toEqual([11, 33]);
    expect(h.github.received.map((r) => r.status)).toEqual([204, 204]);
  });

  it('when the installation was revoked, then GitHub’s 401 fails the rollback with a log that says what to check', async () => {
    await start({ revoked: [11] });
    const id = await rollback('podinfo-prod', 1);
    await h.waitForStatus(id, 'failed');
    const event = (await findEvent(h.store.db, id))!.event;
    expect(event.lastError).toMatch(/GitHub App 424242 could not get a token for installation 11 \(GitHub answered 401: Bad credentials\): the installation was removed or suspended/);
    expect(h.logs.entries).toContainEqual(expect.objectContaining({ level: 50, eventId: id, msg: expect.stringMatching(/^failed: GitHub answered 401: GitHub App 424242 .*check GH_PAT_WEBHOOK \(or, with a GitHub App, GITHUB_APP_ID, its key and its installation\)/) }));
    expect(h.github.received).toEqual([]);
  });

  it('when the wiring check and the delivery worker both use GitHub, then they share one token cache: each installation gets one token', async () => {
    await start({}, {}, true);
    // The wiring check at start reads both configured repositories: one token per installation.
    await h.github.waitFor((g) => g.reads.filter((r) => r.path.endsWith('/actions/runs')).length === 2);
    expect(h.github.installationTokens.map((t) => t.installationId).sort()).toEqual([11, 22]);
    await h.waitForStatus(await rollback('podinfo-prod', 1), 'delivered');
    await h.waitForStatus(await rollback('team-a-web', 2), 'delivered');
    expect(h.github.installationTokens).toHaveLength(2);
    expect([tokenOf(0), tokenOf(1)]).toEqual([11, 22].map((id) => h.github.installationTokens.find((t) => t.installationId === id)!.token));
  });

  it('when GITHUB_APP_INSTALLATION_ID is set, then no installation is looked up and that one is used', async () => {
    await start({}, { GITHUB_APP_INSTALLATION_ID: '11' });
    await h.waitForStatus(await rollback('podinfo-prod', 1), 'delivered');
    expect(h.github.installationTokens.map((t) => t.installationId)).toEqual([11]);
  });
});

describe('GitHub App configuration', () => {
  const base = { REPO_OWNER: 'acme', REPO_NAME: 'gitops', WEBHOOK_TOKEN: 'webhook-token-0123456789' };
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig(env, (path) => (path === '/keys/app.pem' ? privateKey : 'not a key at all'));
    } catch (error) {
      return { list: (error as ConfigError).problems, message: (error as Error).message };
    }
    throw new Error('expected a ConfigError');
  };

  it('when the key does not parse, then the start is refused, every problem listed, the key never echoed', () => {
    const { list, message } = problems({ ...base, GITHUB_APP_ID: '1', GITHUB_APP_PRIVATE_KEY: 'secret-looking-but-not-a-key', PORT: 'x' });
    expect(list).toEqual(expect.arrayContaining([expect.stringMatching(/^PORT: /), expect.stringMatching(/^GITHUB_APP_PRIVATE_KEY: not an RSA private key in PEM/)]));
    expect(message).not.toContain('secret-looking-but-not-a-key');
  });

  it.each([
    ['a PAT and an App', { GH_PAT_WEBHOOK: 'x', GITHUB_APP_ID: '1', GITHUB_APP_PRIVATE_KEY_FILE: '/keys/app.pem' }, /^GH_PAT_WEBHOOK: set either a PAT or a GitHub App/],
    ['an App without its key', { GITHUB_APP_ID: '1' }, /^GITHUB_APP_PRIVATE_KEY: required with a GitHub App/],
    ['a key file that is not a key', { GITHUB_APP_ID: '1', GITHUB_APP_PRIVATE_KEY_FILE: '/keys/other.pem' }, /^GITHUB_APP_PRIVATE_KEY_FILE: not an RSA private key/],
  ])('when the config has %s, then it is refused', (_name, env, expected) => {
    expect(problems({ ...base, ...env }).list).toContainEqual(expect.stringMatching(expected));
  });

  it('when the key comes from GITHUB_APP_PRIVATE_KEY_FILE, then the App is configured', () => {
    expect(loadConfig({ ...base, GITHUB_APP_ID: '7', GITHUB_APP_PRIVATE_KEY_FILE: '/keys/app.pem', GITHUB_APP_INSTALLATION_ID: '99' }, () => privateKey).github.app).toEqual({ appId: 7, privateKey, installationId: 99 });
  });
});
