import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { runServiceToExit, spawnService } from '../support/service-process';

const COMPOSE = resolve(__dirname, '..', '..', 'docker-compose.yml');

/** Compose's interpolation of `${NAME}`, `${NAME:-default}` and `${NAME-default}` from `env` (what `docker compose` does with the shell's variables and .env). */
function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(/\$\{([A-Z0-9_]+)(?::?-([^}]*))?\}/g, (_match, name: string, fallback: string | undefined) => env[name] || (fallback ?? ''));
}

/** The environment compose gives the SQLite service, with the container's paths moved under `dir`. */
function composeEnvironment(env: Record<string, string>, dir: string): Record<string, string> {
  const file = parse(readFileSync(COMPOSE, 'utf8'), { merge: true }) as { services: Record<string, { environment: Record<string, string> }> };
  const resolved = Object.fromEntries(Object.entries(file.services['rollback-webhook']!.environment).map(([name, value]) => [name, interpolate(String(value), env)]));
  return { ...resolved, DATABASE_URL: `sqlite:${join(dir, 'rollback.db')}`, HOST: '127.0.0.1', PORT: '0' };
}

/**
 * The compose file's environment given to the built service (no Docker engine here): from a clean
 * checkout with nothing set, the start names every missing value and fills none with a default; with
 * the three secrets and the repository it runs.
 */
describe('docker-compose.yml from a clean checkout (no .env)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'compose-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('when nothing is set, then the start stops and names each required value, secrets included, without echoing anything', async () => {
    const { code, stderr, stdout } = await runServiceToExit(composeEnvironment({}, dir), dir);
    expect(code).toBe(1);
    const output = stderr + stdout;
    for (const name of ['GH_PAT_WEBHOOK', 'REPO_OWNER', 'REPO_NAME', 'WEBHOOK_TOKEN', 'ADMIN_TOKEN']) expect(output).toMatch(new RegExp(`- ${name}: required`));
  });

  it('when only ADMIN_TOKEN is missing, then it is named, not replaced by WEBHOOK_TOKEN', async () => {
    const env = { WEBHOOK_TOKEN: 'compose-webhook-token-0123', GH_PAT_WEBHOOK: 'compose-gh-token', REPO_OWNER: 'acme', REPO_NAME: 'gitops' };
    const { code, stderr } = await runServiceToExit(composeEnvironment(env, dir), dir);
    expect(code).toBe(1);
    expect(stderr).toContain('- ADMIN_TOKEN: required here (REQUIRE_ADMIN_TOKEN=true)');
    expect(stderr).not.toContain('compose-webhook-token-0123');
  });

  it('when the secrets and the repository are set (dry run: no GitHub token), then it starts and is ready', async () => {
    const env = { WEBHOOK_TOKEN: 'compose-webhook-token-0123', ADMIN_TOKEN: 'compose-admin-token-0123', REPO_OWNER: 'acme', REPO_NAME: 'gitops', DRY_RUN: 'true' };
    const service = await spawnService(composeEnvironment(env, dir), dir);
    try {
      const ready = await fetch(`${service.url}/readyz`);
      expect(ready.status).toBe(200);
    } finally {
      service.child.kill('SIGTERM');
      await service.exited;
    }
  });
});
