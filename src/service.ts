import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import type { Express } from 'express';
import type { Logger } from 'pino';
import { capConnections } from './http/connection-cap';
import { createApp } from './app';
import { continueAfterAuth } from './http/middleware/auth';
import { createDatabaseClock, systemClock, type Clock, type DatabaseClock } from './clock';
import type { Config } from './config/config';
import { githubAccessFor, type GitHubAccess } from './github/github-client';
import { WiringMonitor, configuredRepositories } from './github/wiring-check';
import { createMetrics } from './metrics/metrics';
import { createWorkers, type Workers } from './workers/create-workers';
import { openStore, type Store } from './store/database';
import { readDatabaseNow } from './store/leased-work';
import { listRecentRepositories } from './store/events.repository';

/** The wiring check covers every repository a rollback went to in this long (besides the configured ones). */
const RECENT_REPOSITORIES_MS = 30 * 24 * 3_600_000;

export interface RunningService {
  readonly url: string;
  /** The Express app the listener serves (supertest can drive it directly). */
  readonly app: Express;
  readonly store: Store;
  readonly workers: Workers;
  /** Stop accepting, let the in-flight dispatch finish, release leases, close the store. */
  stop(): Promise<void>;
}

/**
 * The parts a caller may bring (tests, embedding): each defaults to what the configuration says. As
 * Probot's `run` takes `Octokit` and `log`, these are exactly the edges a test swaps.
 */
export interface ServiceOptions {
  clock?: Clock;
  /** An open store; migrated here, and closed by stop() like the default one (DATABASE_URL). */
  store?: Store;
  /** GitHub's client and token pace; default from the PAT or App in the configuration. null: none. */
  github?: GitHubAccess | null;
  /** Run the background workers (default true). */
  workers?: boolean;
  /** Run the GitHub wiring check at start and every GITHUB_CHECK_INTERVAL_SECONDS (default true). */
  wiringCheck?: boolean;
  /** Test knobs for the workers: a faster idle poll, a seeded random. */
  pollIntervalMs?: number;
  random?: () => number;
}

/**
 * What the "listening" line says: `listen`, the socket (0.0.0.0 or ::, every interface, as in a
 * container), and `url`, where this machine reaches it (127.0.0.1 for every interface).
 */
export function listeningAddress(host: string, port: number): { listen: string; url: string } {
  const bracketed = (h: string) => (h.includes(':') ? `[${h}]` : h);
  const reachable = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return { listen: `${bracketed(host)}:${port}`, url: `http://${bracketed(reachable)}:${port}` };
}

/** Past this difference from the database's clock, a replica says so (its times come from the database's). */
const CLOCK_OFFSET_SAID_MS = 1000;

/**
 * The clock the service runs on. On PostgreSQL, where replicas on different machines share the work, the
 * database's (DatabaseClock: this machine's clock plus its measured offset), so every due time, pace and
 * window is on one clock; on SQLite (one process, on the database's machine) the system clock.
 */
export async function replicaClock(store: Store, logger: Logger, base: Clock = systemClock): Promise<Clock> {
  if (store.dialect !== 'postgres') return base;
  let said = 0;
  return createDatabaseClock(base, () => readDatabaseNow(store.db, store.dialect), {
    onOffset(offsetMs) {
      if (Math.abs(offsetMs - said) < CLOCK_OFFSET_SAID_MS) return;
      said = offsetMs;
      logger.warn(
        { component: 'clock', offsetMs: Math.round(offsetMs) },
        `this machine's clock is ${(Math.abs(offsetMs) / 1000).toFixed(1)} s ${offsetMs < 0 ? 'ahead of' : 'behind'} the database's: due times, the GitHub pace and loop-guard windows use the database's clock (check NTP on this machine)`,
      );
    },
  });
}

/** A listen failure said with its remedy: which port, and the variable that changes it. */
export class ListenError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly port: number,
  ) {
    super(message);
    this.name = 'ListenError';
  }
}

function listenProblem(error: Error, host: string, port: number): Error {
  const code = (error as NodeJS.ErrnoException).code;
  const where = `${host}:${port}`;
  if (code === 'EADDRINUSE') return new ListenError(`port ${port} is already in use (${where}): stop what listens there, or set PORT to a free port`, code, port);
  if (code === 'EACCES') return new ListenError(`port ${port} needs privileges this process does not have (${where}): set PORT to 1024 or above`, code, port);
  if (code === 'EADDRNOTAVAIL') return new ListenError(`HOST ${host} is not an address of this machine: set HOST to one of its addresses, 0.0.0.0 for all, or 127.0.0.1 for this machine only`, code, port);
  return error;
}

/**
 * Opens the store, listens (answering /healthz at once, everything else 503 STARTING while it starts),
 * runs the migrations (a long one, SQLite's one-time VACUUM, off the HTTP thread), then starts the
 * workers and takes webhooks. Resolves once it takes them.
 */
export async function startService(config: Config, logger: Logger, options: ServiceOptions = {}): Promise<RunningService> {
  const storeLog = logger.child({ component: 'store' });
  const store =
    options.store ??
    openStore(config.databaseUrl, {
      postgres: config.postgres,
      onConnectionError: (error) => storeLog.warn({ err: error }, 'database connection lost; it is replaced on next use'),
      onBackgroundError: (error) => storeLog.error({ err: error }, 'the SQLite checkpoint thread failed; the connection checkpoints on the main thread again'),
    });
  try {
    const clock = options.clock ?? (await replicaClock(store, logger));
    return await serve(config, logger, clock, store, options, () => (clock as Partial<DatabaseClock>).stop?.());
  } catch (error) {
    // Nothing listens: the store (and its pool or file handle) must not outlive the failed start.
    await store.close().catch(() => undefined);
    throw error;
  }
}

async function serve(config: Config, logger: Logger, clock: Clock, store: Store, options: ServiceOptions, stopClock: () => void): Promise<RunningService> {
  const metrics = createMetrics({ store, clock, appLabel: config.metrics.appLabel, maxApps: config.metrics.maxApps });
  // One client, so one GitHub App token cache, for the workers and the wiring check alike.
  const github = options.github === null ? undefined : (options.github ?? githubAccessFor(config));
  const wiring =
    github && options.wiringCheck !== false
      ? new WiringMonitor(github.client, configuredRepositories(config), logger, metrics, config.github.checkIntervalMs, clock, () => listRecentRepositories(store.db, clock.now() - RECENT_REPOSITORIES_MS))
      : undefined;
  const workers = createWorkers(config, { store, clock, logger, github, metrics, pollIntervalMs: options.pollIntervalMs, random: options.random });
  let stopping: Promise<void> | undefined;
  // Until the migrations are done: /healthz answers, /readyz and the rest say what the start waits for.
  const startup = { ready: false, waitingFor: 'opening the store' };
  const app = createApp({
    startup: { ready: () => startup.ready, waitingFor: () => startup.waitingFor },
    metrics,
    wiring,
    isStopping: () => stopping !== undefined,
    config,
    logger,
    store,
    clock,
    onEventStored: () => workers.onEventStored(),
    onReportRecorded: () => workers.onReportRecorded(),
    onNotification: () => workers.onNotification(),
  });
  // A webhook is small and quick: seconds for headers and the whole request, a cap on connections, so
  // slow or idle clients (slowloris) cannot hold the listener. Node checks the timeouts every second.
  const { headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs, maxConnections, maxConnectionsPerClient } = config.http;
  const server: Server = createServer({ headersTimeout: headersTimeoutMs, requestTimeout: requestTimeoutMs, keepAliveTimeout: keepAliveTimeoutMs, connectionsCheckingInterval: 1000 }, app);
  capConnections(server, { max: maxConnections, maxPerClient: maxConnectionsPerClient, logger });
  // Node keeps the first 2,000 raw header entries and drops the rest silently; read them all (16 KB in all
  // at most, Node's own bound) so the app answers 431 past MAX_HEADER_LINES instead of guessing.
  server.maxHeadersCount = 0;
  server.on('checkContinue', continueAfterAuth(app));
  await new Promise<void>((resolve, reject) => {
    const fail = (error: Error) => reject(listenProblem(error, config.http.host, config.http.port));
    server.once('error', fail);
    server.listen(config.http.port, config.http.host, () => {
      server.off('error', fail);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const { listen, url } = listeningAddress(config.http.host, port);
  logger.info({ listen, url }, 'starting: /healthz answers; webhooks wait until the store is migrated');
  try {
    await store.migrate((waitingFor) => {
      startup.waitingFor = waitingFor;
      logger.info({ component: 'store' }, `starting: ${waitingFor}`);
    });
  } catch (error) {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    throw error;
  }
  startup.ready = true;
  if (options.workers !== false) workers.start();
  wiring?.start();
  logger.info({ listen, url, dryRun: config.dryRun, repo: `${config.github.owner}/${config.github.repo}`, store: store.dialect }, 'listening');
  // Said once at start: the shipped templates send the Application's sources, from which the paths are
  // worked out; only a notification without them (shapes A and B, an older template) needs VALUES_PATHS.
  if (config.github.valuesPaths === undefined && !config.routes.some((r) => r.app === '*' && r.valuesPaths !== undefined)) {
    logger.info(
      { component: 'config' },
      "VALUES_PATHS is not set: rollbacks restore what each Application's sources name (the shipped templates send them); a notification without sources (shape A or B, an older template) restores the workflow's default, nextjs/values.yaml",
    );
  }

  /**
   * SIGTERM: /readyz answers 503 from now on; the listener takes no new connections; requests already
   * being received or answered finish (up to SHUTDOWN_TIMEOUT_MS), while idle keep-alive connections are
   * closed as they become idle; the in-flight dispatch finishes or is aborted and its lease released;
   * then the store closes. Connections still open after the timeout are cut.
   */
  const stop = () => {
    stopping ??= (async () => {
      const timeoutMs = config.delivery.shutdownTimeoutMs;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      const drainRequests = async () => {
        server.closeIdleConnections();
        const idleSweep = setInterval(() => server.closeIdleConnections(), 50);
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), timeoutMs);
        });
        const result = await Promise.race([closed, timedOut]);
        clearInterval(idleSweep);
        clearTimeout(timer);
        if (result === 'timeout') {
          logger.warn({ timeoutMs }, 'requests still open after SHUTDOWN_TIMEOUT_MS; closing their connections');
          server.closeAllConnections();
          await closed;
        }
      };
      wiring?.stop();
      // The HTTP drain and the workers' stop run side by side, each bounded by the same timeout.
      await Promise.all([drainRequests(), workers.stop(timeoutMs)]);
      stopClock();
      await store.close();
      logger.info('stopped');
    })();
    return stopping;
  };
  return { url, app, store, workers, stop };
}

