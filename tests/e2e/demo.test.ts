import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { until } from '../support/until';

const ROOT = resolve(__dirname, '..', '..');

/**
 * `npm run demo` as a new user runs it: the script itself (its own process, its own folder for
 * ./data/demo.db), then every curl it prints, with the real curl, as printed. Each rollback ends verified
 * and nothing in its output says otherwise.
 */
/** What is in the demo's TMPDIR but tsx's own cache (tsx-<uid>: one per user, reused by every tsx run). */
function leftInTmp(tmp: string): string[] {
  return readdirSync(tmp).filter((name) => !/^tsx-\d+$/.test(name));
}

describe('npm run demo', () => {
  let dir: string;
  /** The demo's TMPDIR: whatever it leaves in the temporary folder lands here. */
  let tmp: string;
  let demo: ChildProcess | undefined;
  let output = '';

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'rollback-demo-'));
    tmp = join(dir, 'tmp');
    mkdirSync(tmp);
  });
  afterAll(async () => {
    if (demo && demo.exitCode === null) {
      const exited = new Promise((r) => demo!.once('exit', r));
      demo.kill('SIGINT');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('when the demo and then each of its curls run, then every rollback ends verified, and no line says anything failed', async () => {
    demo = spawn(join(ROOT, 'node_modules', '.bin', 'tsx'), [join(ROOT, 'scripts', 'demo.ts')], { cwd: dir, env: { PATH: process.env.PATH ?? '', PORT: '0', TMPDIR: tmp } });
    demo.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    demo.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    await until(() => Promise.resolve(output.includes('The stand-in Argo CD below') || demo!.exitCode !== null), 'the demo printed its curls', 60_000);
    expect(output).toContain('7. The rollback\'s outcome');
    expect(output).toMatch(/outcome .*: verified/);

    // The curls as printed (a line ending in \ goes on on the next one), run by sh with the real curl.
    const block = output.slice(output.indexOf('Or try'), output.indexOf('The stand-in Argo CD below'));
    const commands = block
      .replace(/\\\n\s*/g, '')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line.startsWith('curl '));
    expect(commands.length).toBeGreaterThanOrEqual(7);
    const answers = commands.map((command) => execFileSync('sh', ['-c', `${command} -o /dev/null -w '%{http_code}'`], { encoding: 'utf8' }));
    expect(answers.every((code) => /^2\d\d$/.test(code))).toBe(true);

    const url = /Service listening on (http:\/\/[^ ]+) /.exec(output)![1]!;
    const token = /Authorization: Bearer ([^']+)'/.exec(block)![1]!;
    const outcomes = async () => {
      const res = await fetch(`${url}/v1/events?limit=500`, { headers: { Authorization: `Bearer ${token}` } });
      return ((await res.json()) as { events: Array<{ app: string; outcome: string | null }> }).events;
    };
    // The first rollback, shop's (shape A) and web's (shape B): all three verified.
    await until(async () => {
      const events = await outcomes();
      return events.length === 3 && events.every((e) => e.outcome === 'verified');
    }, 'every rollback verified', 30_000);
    expect((await outcomes()).map((e) => e.app).sort()).toEqual(['podinfo-prod', 'shop', 'web']);
    for (const word of ['restore_failed', 'run_missing', 'unverified', 'VALUES_PATHS is not set', '"level":50', '"level":40']) expect(output).not.toContain(word);
    expect(leftInTmp(tmp)).toEqual([expect.stringMatching(/^gitops-rollback-demo-/)]);

    // Ctrl-C: it stops, and leaves nothing in the temporary folder.
    const exited = new Promise<number | null>((r) => demo!.once('exit', (code) => r(code)));
    demo.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(output).toContain('Stopping…');
    expect(leftInTmp(tmp)).toEqual([]);
  }, 120_000);

  describe('when its port is taken', () => {
    let taken: Server;
    beforeAll(async () => {
      taken = createServer();
      await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    });
    afterAll(() => new Promise<void>((r) => taken.close(() => r())));

    it('then it says so in one line naming the port and PORT, exits 1, and leaves nothing in the temporary folder', async () => {
      const { port } = taken.address() as { port: number };
      const child = spawn(join(ROOT, 'node_modules', '.bin', 'tsx'), [join(ROOT, 'scripts', 'demo.ts')], { cwd: dir, env: { PATH: process.env.PATH ?? '', PORT: String(port), TMPDIR: tmp } });
      let said = '';
      child.stdout.on('data', (chunk: Buffer) => (said += chunk.toString('utf8')));
      child.stderr.on('data', (chunk: Buffer) => (said += chunk.toString('utf8')));
      const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
      expect(code).toBe(1);
      expect(said.trim()).toBe(`npm run demo: port ${port} is already in use (127.0.0.1:${port}): stop what listens there, or set PORT to a free port (PORT=${port + 1} npm run demo)`);
      expect(leftInTmp(tmp)).toEqual([]);
    }, 60_000);
  });
});
