import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/**
 * The built service as the bench runs it: `node <root>/dist/main.js` (or `main`) with exactly `env` (plus PATH) and
 * started in `cwd`, the bench's own temporary folder, so no `.env` is read (dotenv reads the working
 * directory's; a newcomer's .env with DRY_RUN=true once made a whole run's dispatches vanish). Output goes
 * to `logFile` when given, else nowhere.
 */
export function spawnBenchService(options: { root: string; cwd: string; env: Record<string, string>; logFile?: string; nodeArgs?: string; main?: string }): ChildProcess {
  const main = options.main ?? join(options.root, 'dist', 'main.js');
  const env = { PATH: process.env.PATH ?? '', ...options.env };
  if (!options.logFile) return spawn(process.execPath, [main], { cwd: options.cwd, env, stdio: 'ignore' });
  return spawn('sh', ['-c', `exec "${process.execPath}" ${options.nodeArgs ?? ''} "${main}" >>"${options.logFile}" 2>&1`], { cwd: options.cwd, env, stdio: 'ignore' });
}

/** Said once at the start of every bench run. */
export const BENCH_ENVIRONMENT_NOTE = 'each server gets only the variables this bench sets and starts in the bench\'s temporary folder: no .env is read';

/**
 * scripts/bench/null-store-main.ts bundled as dist/main.js is (esbuild), beside it as
 * dist/bench-null-store.js: the packages left outside the bundle resolve from the project's node_modules
 * and package.json is one level up, as for dist/main.js. Never shipped: the image builds its own dist/
 * from src/ (.dockerignore leaves dist/ out). Returns the file's path.
 */
export async function buildNullStoreService(root: string): Promise<string> {
  const { build } = await import('esbuild');
  const outfile = join(root, 'dist', 'bench-null-store.js');
  await build({
    absWorkingDir: root,
    entryPoints: ['scripts/bench/null-store-main.ts'],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['better-sqlite3', 'pg', 'yaml', 'universal-github-app-jwt'],
    logLevel: 'warning',
  });
  return outfile;
}
