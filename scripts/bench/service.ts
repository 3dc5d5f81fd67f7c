import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/**
 * The built service as the bench runs it: `node <root>/dist/main.js` with exactly `env` (plus PATH) and
 * started in `cwd`, the bench's own temporary folder, so no `.env` is read (dotenv reads the working
 * directory's; a newcomer's .env with DRY_RUN=true once made a whole run's dispatches vanish). Output goes
 * to `logFile` when given, else nowhere.
 */
export function spawnBenchService(options: { root: string; cwd: string; env: Record<string, string>; logFile?: string; nodeArgs?: string }): ChildProcess {
  const main = join(options.root, 'dist', 'main.js');
  const env = { PATH: process.env.PATH ?? '', ...options.env };
  if (!options.logFile) return spawn(process.execPath, [main], { cwd: options.cwd, env, stdio: 'ignore' });
  return spawn('sh', ['-c', `exec "${process.execPath}" ${options.nodeArgs ?? ''} "${main}" >>"${options.logFile}" 2>&1`], { cwd: options.cwd, env, stdio: 'ignore' });
}

/** Said once at the start of every bench run. */
export const BENCH_ENVIRONMENT_NOTE = 'each server gets only the variables this bench sets and starts in the bench\'s temporary folder: no .env is read';
