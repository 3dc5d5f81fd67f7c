import express, { type Express, type RequestHandler } from 'express';
import helmet from 'helmet';
import type { AppDeps } from './http/app-deps';
import { errorHandler, notFound } from './http/middleware/error-handler';
import { createRequestLogger } from './http/middleware/request-logger';
import { createRouter } from './http/router';
import { createUiRouter } from './ui/ui-router';
import { createMetrics } from './metrics/metrics';
import { AppError } from './errors';
import type { FailureGuard } from './http/middleware/auth';
import { AUTH_FAILURES_PER_MINUTE, createAuthFailureBudget } from './http/middleware/auth-failures';

export type { AppDeps };

/** Header lines a request may carry: browsers send about 20, proxies add a few. */
export const MAX_HEADER_LINES = 200;

/**
 * Inputs no route reads, refused before any does, the same on both stores: a NUL character in the path
 * (404) or in a query value (422), which PostgreSQL's text cannot hold; a bracketed query parameter
 * (`app[]=x`, `before[x]=1`), which the query parser leaves as an unknown name so the filter it meant
 * was silently dropped; and a parameter given twice (422), each named.
 */
const refuseOddRequests: RequestHandler = (req, _res, next) => {
  if (/%00/.test(req.path) || req.path.includes('\u0000')) return next(new AppError('NOT_FOUND', 'the path contains a NUL character (%00)'));
  for (const [name, value] of Object.entries(req.query as Record<string, unknown>)) {
    if (/[[\]]/.test(name)) return next(new AppError('INVALID_PAYLOAD', `query parameter ${name}: brackets are not read; send ${name.replace(/\[.*$/, '')}=<value> once`));
    if (typeof value !== 'string') return next(new AppError('INVALID_PAYLOAD', `query parameter ${name}: given more than once; send it once`));
    if (value.includes('\u0000')) return next(new AppError('INVALID_PAYLOAD', `query parameter ${name}: contains a NUL character (%00)`));
  }
  next();
};

const UI_PATH = /^\/ui(?:\/|$)/i;

/** Builds the Express app from its parts; never listens (src/main.ts does). */
export function createApp(given: AppDeps): Express {
  const metrics = given.metrics ?? createMetrics({ store: given.store, clock: given.clock, appLabel: given.config.metrics.appLabel, maxApps: given.config.metrics.maxApps });
  const authGuard: FailureGuard = given.authGuard ?? {
    budget: createAuthFailureBudget(),
    clock: given.clock,
    onExhausted(req, address) {
      metrics.countAuthFailures('exhausted');
      given.logger.warn(
        { component: 'http', address, path: req.path },
        `more than ${AUTH_FAILURES_PER_MINUTE} failed authentications a minute from ${address}: it gets 429 until its minute is over (other addresses are not slowed)`,
      );
    },
    onBlocked: () => metrics.countAuthFailures('blocked'),
  };
  const deps: AppDeps = { ...given, metrics, authGuard };
  const app = express();
  // Nobody needs these on a JSON webhook API, and they cost time on the hot path.
  app.disable('x-powered-by');
  app.set('etag', false);
  // Behind an Ingress the client is in X-Forwarded-For; trusted only as far as TRUST_PROXY says.
  app.set('trust proxy', deps.config.http.trustProxy);
  app.use(helmet());
  app.use(createRequestLogger(deps.logger));
  // No CORS here: OPTIONS is answered like any unknown route, after nothing, before nothing.
  app.use((req, _res, next) => next(req.method === 'OPTIONS' ? new AppError('NOT_FOUND', `no route for OPTIONS ${req.path}`) : undefined));
  // Every header line is read (the listener drops none: see startService); past MAX_HEADER_LINES, 431.
  app.use((req, _res, next) => next(req.rawHeaders.length / 2 > MAX_HEADER_LINES ? new AppError('TOO_MANY_HEADERS', `${req.rawHeaders.length / 2} header lines; the service reads at most ${MAX_HEADER_LINES}`) : undefined));
  app.use(refuseOddRequests);
  // While it starts, only the probes answer; everything else is told what the start waits for.
  const { startup } = deps;
  if (startup) {
    app.use((req, _res, next) => {
      if (startup.ready() || req.path === '/healthz' || req.path === '/readyz') return next();
      next(new AppError('STARTING', `the service is starting: ${startup.waitingFor()}; send again in a moment`));
    });
  }
  // The status page (its own CSP, cookie session and HTML errors), then the JSON API. Only /ui and what
  // is under it enter the page's router: a webhook would otherwise be matched against each of its layers.
  const ui = createUiRouter(deps);
  // (Express matches paths without regard to case, and so does this.)
  app.use((req, res, next) => (UI_PATH.test(req.path) ? ui(req, res, next) : next()));
  app.use(createRouter(deps));
  app.use(notFound);
  app.use(errorHandler);
  return app;
}
