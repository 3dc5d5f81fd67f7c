import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { openStore } from '../../src/store/database';
import { listEvents } from '../../src/store/events.repository';
import { ADMIN_TOKEN, WEBHOOK_TOKEN, failedRevision, seedBody } from '../support/harness';
import { MAIN_JS } from '../support/service-process';

interface Started {
  child: ChildProcess;
  url: string;
  lines: string[];
  exited: Promise<number | null>;
}

/** The built service started through `sh -c`, so the shell can set limits first (`prelude`). */
async function startService(dir: string, databaseFile: string, prelude: string): Promise<Started> {
  const env = { PATH: process.env.PATH ?? '', REPO_OWNER: 'acme', REPO_NAME: 'gitops', DRY_RUN: 'true', WEBHOOK_TOKEN, ADMIN_TOKEN, HOST: '127.0.0.1', PORT: '0', DATABASE_URL: `sqlite:${databaseFile}`, LOG_LEVEL: 'info' };
  const child = spawn('sh', ['-c', `${prelude} exec "${process.execPath}" "${MAIN_JS}"`], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let buffer = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (chunk: Buffer) => lines.push(chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 1);
        lines.push(line);
        const entry = JSON.parse(line) as { msg?: string; url?: string };
        if (entry.msg === 'listening' && entry.url) resolve(entry.url);
      }
    });
    void exited.then((code) => reject(new Error(`the service exited (${code}) before listening: ${lines.join('\n')}`)));
  });
  return { child, url, lines, exited };
}

const post = (url: string, n: number) =>
  fetch(`${url}/v1/webhooks/argocd`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${WEBHOOK_TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(seedBody({ app: `app-${n}`, failed_revision: failedRevision(n), note: 'x'.repeat(20_000) })),
  });

/**
 * Writes that start failing mid-run (a disk that fills, a file that may not grow, a disk turned
 * read-only): every webhook is answered 503 STORE_UNAVAILABLE with Retry-After, named by SQLite's own
 * first error (never the rollback's complaint after it, never 500), /readyz says not ready, /v1/status
 * names it, and every webhook answered 202 is in the store.
 */
describe('the disk fails under the running service', () => {
  let dir: string;
  let service: Started | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rollback-disk-'));
  });
  afterEach(async () => {
    if (service && service.child.exitCode === null) {
      service.child.kill('SIGKILL');
      await service.exited;
    }
    service = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  /** Posts until `refusals` webhooks were refused; returns the accepted ids and every refusal's status and body. */
  async function fillUp(url: string, refusals: number) {
    const accepted: string[] = [];
    const refused: Array<{ status: number; code: string; retryAfter: string | null }> = [];
    for (let n = 1; refused.length < refusals && n < 5000; n++) {
      const answer = await post(url, n);
      const body = (await answer.json()) as { id?: string; error?: { code: string } };
      if (answer.status === 202) accepted.push(body.id!);
      else refused.push({ status: answer.status, code: body.error?.code ?? '', retryAfter: answer.headers.get('retry-after') });
    }
    return { accepted, refused };
  }

  async function expectNamedOutage(started: Started, kinds: string[]) {
    const ready = await fetch(`${started.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { error: { code: string; message: string } }).error.message).toMatch(/^the event store does not take writes: /);
    const status = (await (await fetch(`${started.url}/v1/status`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } })).json()) as { store_problem: { kind: string } | null };
    expect(kinds).toContain(status.store_problem?.kind);
    const errors = started.lines.map((l) => (l.startsWith('{') ? (JSON.parse(l) as Record<string, unknown>) : {})).filter((e) => e.code === 'STORE_UNAVAILABLE' || e.code === 'INTERNAL');
    expect(errors.length).toBeGreaterThan(0);
    for (const line of errors) expect([line.code, kinds.includes(String(line.storeProblem))]).toEqual(['STORE_UNAVAILABLE', true]);
    expect(started.lines.join('\n')).not.toContain('cannot rollback');
  }

  async function expectNothingAcceptedLost(databaseFile: string, accepted: string[]) {
    const store = openStore(`sqlite:${databaseFile}`);
    try {
      const stored = new Set((await listEvents(store.db, { limit: 5000 })).map((e) => e.id));
      expect(accepted.filter((id) => !stored.has(id))).toEqual([]);
    } finally {
      await store.close();
    }
  }

  it('when its files may not grow past 3 MB (RLIMIT_FSIZE), then the refusals are 503 named disk full or I/O error, not ready, and every 202 is stored', async () => {
    const file = join(dir, 'rollback.db');
    // SIGXFSZ ignored: a write past the limit fails (EFBIG, or a short write) instead of killing the process.
    service = await startService(dir, file, `trap '' XFSZ; ulimit -f ${(3 * 1024 * 1024) / 512};`);
    const { accepted, refused } = await fillUp(service.url, 20);
    expect(accepted.length).toBeGreaterThan(10);
    expect(refused).toEqual(Array.from({ length: 20 }, () => ({ status: 503, code: 'STORE_UNAVAILABLE', retryAfter: expect.stringMatching(/^[15]$/) })));
    await expectNamedOutage(service, ['disk_full', 'io_error']);
    service.child.kill('SIGTERM');
    await service.exited;
    await expectNothingAcceptedLost(file, accepted);
  }, 120_000);

  // Real small file systems: need mount and a loop device (root), as CI has; said so where they cannot run.
  const canMount = process.getuid?.() === 0 && spawnSync('sh', ['-c', 'command -v mount && command -v mkfs.ext4 && command -v losetup']).status === 0;
  (canMount ? it : it.skip)('when a real 8 MB tmpfs fills up, then 503 disk full, not ready, and every 202 is stored', async () => {
    const mountPoint = join(dir, 'small');
    mkdirSync(mountPoint);
    expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mountPoint]).status).toBe(0);
    try {
      const file = join(mountPoint, 'rollback.db');
      service = await startService(dir, file, '');
      const full = await fillUp(service.url, 20);
      expect(full.refused.every((r) => r.status === 503 && r.code === 'STORE_UNAVAILABLE')).toBe(true);
      await expectNamedOutage(service, ['disk_full']);
      service.child.kill('SIGTERM');
      await service.exited;
      await expectNothingAcceptedLost(file, full.accepted);
    } finally {
      spawnSync('umount', ['-l', mountPoint]);
    }
  }, 180_000);

  (canMount ? it : it.skip)('when an ext4 disk turns read-only under the running service (an error, remounted read-only), then 503 read-only, not ready, and the status names it', async () => {
    const image = join(dir, 'disk.ext4');
    const mountPoint = join(dir, 'disk');
    mkdirSync(mountPoint);
    expect(spawnSync('truncate', ['-s', '32M', image]).status).toBe(0);
    expect(spawnSync('mkfs.ext4', ['-q', image]).status).toBe(0);
    expect(spawnSync('mount', ['-o', 'loop,errors=remount-ro', image, mountPoint]).status).toBe(0);
    try {
      const device = /^(\/dev\/loop\d+):/.exec(spawnSync('losetup', ['-j', image]).stdout.toString())?.[1];
      expect(device).toBeDefined();
      const file = join(mountPoint, 'rollback.db');
      service = await startService(dir, file, '');
      expect([(await post(service.url, 1)).status, (await post(service.url, 2)).status]).toEqual([202, 202]);
      // What the kernel does on a file system error with errors=remount-ro: every write fails from now on.
      writeFileSync(`/sys/fs/ext4/${basename(device!)}/trigger_fs_error`, '1');
      const readOnly = await fillUp(service.url, 5);
      expect(readOnly.refused.map((r) => [r.status, r.code])).toEqual(Array.from({ length: 5 }, () => [503, 'STORE_UNAVAILABLE']));
      await expectNamedOutage(service, ['read_only', 'io_error']);
      service.child.kill('SIGKILL');
      await service.exited;
    } finally {
      spawnSync('umount', ['-l', mountPoint]);
    }
  }, 180_000);
});
