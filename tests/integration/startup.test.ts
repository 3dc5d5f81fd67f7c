import SQLite from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config';
import { createLogger } from '../../src/logger';
import { startService, type RunningService } from '../../src/service';
import { openStore } from '../../src/store/database';
import { ADMIN_TOKEN, LogCapture, WEBHOOK_TOKEN, seedBody } from '../support/harness';
import { until } from '../support/until';

/**
 * A long step of the start (here SQLite's one-time VACUUM of a file from before retention, held back by
 * another connection's write lock so the test sees it) no longer keeps the port closed: /healthz answers
 * throughout, /readyz and every other route say what the start waits for, and the webhooks come once it
 * is done.
 */
describe('starting on a SQLite file that needs its one-time VACUUM', () => {
  let dir: string;
  let service: RunningService | undefined;
  afterEach(async () => {
    await service?.stop();
    service = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('when the VACUUM takes a while, then /healthz answers meanwhile, /readyz and webhooks get 503 STARTING naming it, and once done everything is served', async () => {
    dir = mkdtempSync(join(tmpdir(), 'rollback-startup-'));
    const file = join(dir, 'rollback.db');
    // A migrated file, then turned back to the layout from before retention (auto_vacuum NONE).
    const store = openStore(`sqlite:${file}`);
    await store.migrate();
    await store.close();
    const old = new SQLite(file);
    old.pragma('auto_vacuum = NONE');
    old.exec('VACUUM');
    expect(old.pragma('auto_vacuum', { simple: true })).toBe(0);
    // Another connection holds the write lock: the VACUUM waits for it.
    old.exec('BEGIN IMMEDIATE');

    const logs = new LogCapture();
    const config = loadConfig({ REPO_OWNER: 'acme', REPO_NAME: 'gitops', WEBHOOK_TOKEN, ADMIN_TOKEN, DRY_RUN: 'true', DATABASE_URL: `sqlite:${file}`, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info' });
    const started = startService(config, createLogger('info', logs), { wiringCheck: false });
    await until(() => Promise.resolve(logs.entries.some((e) => typeof e.msg === 'string' && e.msg.startsWith('starting: converting the SQLite file'))), 'the VACUUM step begun');
    const url = String(logs.entries.find((e) => e.msg === 'starting: /healthz answers; webhooks wait until the store is migrated')!.url);

    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { error: { code: string; message: string } }).error).toEqual({
      code: 'STARTING',
      message: expect.stringMatching(/^the service is starting: converting the SQLite file to auto_vacuum=INCREMENTAL \(a one-time VACUUM of \d+ MB\)$/),
    });
    const webhook = await fetch(`${url}/v1/webhooks/argocd`, { method: 'POST', headers: { Authorization: `Bearer ${WEBHOOK_TOKEN}`, 'Content-Type': 'application/json' }, body: JSON.stringify(seedBody()) });
    expect(webhook.status).toBe(503);
    expect(webhook.headers.get('retry-after')).toBe('5');
    expect(((await webhook.json()) as { error: { code: string } }).error.code).toBe('STARTING');

    old.exec('COMMIT');
    old.close();
    service = await started;
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    const accepted = await fetch(`${url}/v1/webhooks/argocd`, { method: 'POST', headers: { Authorization: `Bearer ${WEBHOOK_TOKEN}`, 'Content-Type': 'application/json' }, body: JSON.stringify(seedBody()) });
    expect(accepted.status).toBe(202);
    const check = new SQLite(file, { readonly: true });
    expect(check.pragma('auto_vacuum', { simple: true })).toBe(2);
    check.close();
    expect(logs.entries.map((e) => e.msg).filter((m) => typeof m === 'string' && /^(starting|listening)/.test(m))).toEqual([
      'starting: /healthz answers; webhooks wait until the store is migrated',
      expect.stringMatching(/^starting: converting the SQLite file/),
      'listening',
    ]);
  }, 60_000);
});
