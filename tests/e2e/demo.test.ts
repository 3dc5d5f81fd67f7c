import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { until } from '../support/until';

const ROOT = resolve(__dirname, '..', '..');

/**
 * `npm run demo` as a new user runs it: the script itself (its own process, its own folder for
 * ./data/demo.db), then every curl it prints, with the real curl, as printed. Each rollback ends verified
 * and nothing in its output says otherwise.
 */
describe('npm run demo', () => {
  let dir: string;
  let demo: ChildProcess | undefined;
  let output = '';

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'rollback-demo-'));
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
    demo = spawn(join(ROOT, 'node_modules', '.bin', 'tsx'), [join(ROOT, 'scripts', 'demo.ts')], { cwd: dir, env: { PATH: process.env.PATH ?? '', PORT: '0' } });
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
  }, 120_000);
});
