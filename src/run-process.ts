import dotenv from 'dotenv';
import { ConfigError, loadConfig, type Config } from './config/config';
import pino, { type Logger } from 'pino';
import { createGitHubClient } from './github/github-client';
import { tokenProviderFor } from './github/token-provider';
import { checkWiring, configuredRepositories } from './github/wiring-check';
import { createLogger } from './logger';
import { openStore } from './store/database';
import { startService, type ServiceOptions } from './service';

/**
 * Every line the process writes is JSON from pino: Node's warnings (deprecations, experimental
 * features) and what libraries print through console become log lines instead of free text.
 */
function routeProcessOutputToLogger(logger: Logger): void {
  const log = logger.child({ component: 'process' });
  // Node prints warnings through a default 'warning' listener; this replaces it.
  process.removeAllListeners('warning');
  process.on('warning', (warning) => log.warn({ warning: { name: warning.name, message: warning.message, code: (warning as { code?: string }).code } }, warning.message));
  const text = (args: unknown[]) => args.map((a) => (typeof a === 'string' ? a : a instanceof Error ? a.message : JSON.stringify(a))).join(' ');
  /* eslint-disable no-console -- replacing console itself, so nothing reaches stdout as free text */
  console.log = (...args: unknown[]) => log.info(text(args));
  console.info = (...args: unknown[]) => log.info(text(args));
  console.warn = (...args: unknown[]) => log.warn(text(args));
  console.error = (...args: unknown[]) => log.error(text(args));
  /* eslint-enable no-console */
}

/**
 * `node dist/main.js check` (npm run check): the store answers, and the GitHub token can see, dispatch
 * to and read Actions of every configured repository. Prints one line per check; exit 1 when one fails.
 */
async function runChecks(config: Config): Promise<number> {
  const lines: string[] = [];
  let failed = false;
  const store = openStore(config.databaseUrl);
  try {
    await store.ping();
    lines.push(`ok    store ${store.dialect} answers`);
  } catch (error) {
    failed = true;
    lines.push(`FAIL  store does not answer: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    await store.close();
  }
  const tokens = tokenProviderFor(config);
  if (!tokens) {
    lines.push('skip  GitHub: DRY_RUN without GH_PAT_WEBHOOK or a GitHub App, nothing is sent');
  } else {
    const github = createGitHubClient({ apiUrl: config.github.apiUrl, tokens, timeoutMs: config.github.timeoutMs });
    for (const check of await checkWiring(github, configuredRepositories(config))) {
      failed ||= !check.ok;
      lines.push(`${check.ok ? 'ok  ' : 'FAIL'}  ${check.repository} ${check.check}: ${check.detail}`);
    }
  }
  process.stdout.write(`${lines.join('\n')}\n${failed ? 'Some checks failed: fix them before relying on rollbacks.' : 'Every check passed.'}\n`);
  return failed ? 1 : 0;
}

/**
 * The process: .env → config → service; SIGTERM/SIGINT shut down cleanly and exit 0. `options` are
 * startService's parts (the bench runs the same process with its store replaced).
 */
export async function runProcess(options: ServiceOptions = {}): Promise<void> {
  dotenv.config({ quiet: true });
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\nSee .env.example for every variable.\n`);
      process.exit(1);
    }
    throw error;
  }

  if (process.argv[2] === 'check') process.exit(await runChecks(config));
  // Written synchronously: measured under load (npm run bench), pino's default asynchronous stdout gained
  // no throughput and held up to 28 MB of lines not yet written, which a crash would lose.
  const logger = createLogger(config.logLevel, pino.destination({ dest: 1, sync: true }));
  routeProcessOutputToLogger(logger);
  const service = await startService(config, logger, options);

  let signalled = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (signalled) return;
    signalled = true;
    logger.info({ signal }, 'shutting down');
    service.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}
