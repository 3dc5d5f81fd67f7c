import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { GITHUB_TOKEN, WEBHOOK_TOKEN } from './harness';

export const MAIN_JS = join(__dirname, '..', '..', 'dist', 'main.js');

/**
 * The environment of a service under test: the fake GitHub at `githubUrl` with the test tokens, a
 * loopback listener on a free port, no pacing, info logs; `overrides` adds or replaces variables.
 */
export function serviceEnv(githubUrl: string, databaseUrl: string, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    REPO_OWNER: 'acme',
    REPO_NAME: 'gitops',
    GH_PAT_WEBHOOK: GITHUB_TOKEN,
    GITHUB_API_URL: githubUrl,
    WEBHOOK_TOKEN,
    HOST: '127.0.0.1',
    PORT: '0',
    DATABASE_URL: databaseUrl,
    GITHUB_MIN_INTERVAL_MS: '0',
    LOG_LEVEL: 'info',
    ...overrides,
  };
}

export interface ServiceProcess {
  child: ChildProcess;
  url: string;
  /** Every stdout line so far (pino JSON). */
  lines: string[];
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Spawns the built service (`node dist/main.js`) with exactly `env` (plus PATH), in `cwd` so no stray
 * .env is read, and resolves once it logs that it is listening.
 */
export async function spawnService(env: Record<string, string>, cwd: string, timeoutMs = 15_000): Promise<ServiceProcess> {
  if (!existsSync(MAIN_JS)) throw new Error(`${MAIN_JS} is missing: run npm run build (npm test does)`);
  const child = spawn(process.execPath, [MAIN_JS], { cwd, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let stderr = '';
  let buffer = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      // Not left running behind the caller's back.
      child.kill('SIGKILL');
      reject(new Error(`service did not start within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        lines.push(line);
        const entry = JSON.parse(line) as { msg?: string; url?: string };
        if (entry.msg === 'listening' && entry.url) {
          clearTimeout(timer);
          resolve(entry.url);
        }
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`service exited (${code ?? signal}) before listening; stderr: ${stderr}`));
    });
  });
  return { child, url, lines, stderr: () => stderr, exited };
}

/** Runs the built service to completion (for start-up failures) and returns its exit code and output. */
export async function runServiceToExit(env: Record<string, string>, cwd: string, args: string[] = []): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [MAIN_JS, ...args], { cwd, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, stdout, stderr };
}
