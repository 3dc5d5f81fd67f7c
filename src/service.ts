import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';
import { createApp } from './app';
import { systemClock, type Clock } from './clock';
import type { Config } from './config/config';
import type { DeliveryWorker } from './delivery/delivery-worker';
import { createGitHubClient } from './github/github-client';
import { tokenProviderFor } from './github/token-provider';
import { WiringMonitor, configuredRepositories } from './github/wiring-check';
import { createMetrics } from './metrics/metrics';
import { createWorkers, type Workers } from './workers/create-workers';
import { openStore, type Store } from './store/database';

export interface RunningService {
  readonly url: string;
  readonly store: Store;
  readonly worker: DeliveryWorker | undefined;
  readonly workers: Workers;
  /** Stop accepting, let the in-flight dispatch finish, release leases, close the store. */
  stop(): Promise<void>;
}

/** Opens the store (running migrations), starts the workers (delivery and outcomes unless DRY_RUN), and listens. */
export async function startService(config: Config, logger: Logger, clock: Clock = systemClock): Promise<RunningService> {
  const storeLog = logger.child({ component: 'store' });
  const store = openStore(config.databaseUrl, {
    onConnectionError: (error) => storeLog.warn({ err: error }, 'database connection lost; it is replaced on next use'),
  });
  await store.migrate();

  const metrics = createMetrics({ store, clock, appLabel: config.metrics.appLabel });
  const tokens = tokenProviderFor(config);
  const wiring = tokens
    ? new WiringMonitor(createGitHubClient({ apiUrl: config.github.apiUrl, tokens, timeoutMs: config.github.timeoutMs }), configuredRepositories(config), logger, metrics, config.github.checkIntervalMs)
    : undefined;
  const workers = createWorkers(config, store, clock, logger, { metrics });
  let stopping: Promise<void> | undefined;
  const app = createApp({
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
  const { headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs, maxConnections } = config.http;
  const server: Server = createServer({ headersTimeout: headersTimeoutMs, requestTimeout: requestTimeoutMs, keepAliveTimeout: keepAliveTimeoutMs, connectionsCheckingInterval: 1000 }, app);
  server.maxConnections = maxConnections;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.http.port, config.http.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  workers.start();
  wiring?.start();
  const { port } = server.address() as AddressInfo;
  const shownHost = config.http.host === '0.0.0.0' || config.http.host === '::' ? '127.0.0.1' : config.http.host;
  const url = `http://${shownHost}:${port}`;
  logger.info({ url, dryRun: config.dryRun, repo: `${config.github.owner}/${config.github.repo}`, store: store.dialect }, 'listening');
  // Said once at start: the seed's default path makes every rollback fail in any other repository.
  if (config.github.valuesPaths === undefined && !config.routes.some((r) => r.app === '*' && r.valuesPaths !== undefined)) {
    logger.warn(
      { component: 'config' },
      "VALUES_PATHS is not set: a rollback of an app without a route's values_paths restores the workflow's default, nextjs/values.yaml, which exists only in the seed's example repository; set VALUES_PATHS to your values file(s)",
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
      await store.close();
      logger.info('stopped');
    })();
    return stopping;
  };
  return { url, store, worker: workers.delivery, workers, stop };
}
