import { Router, type RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import { CLIENT_IPV6_PREFIX } from './client-key';
import { AppError } from '../errors';
import type { AppDeps } from './app-deps';
import { createAppsController } from './controllers/apps.controller';
import { createEventsController } from './controllers/events.controller';
import { createReadiness, live } from './controllers/health.controller';
import { createStatusController } from './controllers/status.controller';
import { createWebhookController } from './controllers/webhook.controller';
import { requireToken } from './middleware/auth';
import { parseJsonBody, requireJsonContentType } from './middleware/json-body';
import { OPENAPI_DOCUMENT } from './openapi';

/** Counts every webhook by outcome (set by the controller, or the error code) and times its answer. */
function observeWebhook({ metrics }: AppDeps): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const outcome = typeof res.locals.outcome === 'string' ? res.locals.outcome : `http_${res.statusCode}`;
      const app = typeof res.locals.app === 'string' ? res.locals.app : undefined;
      metrics?.countWebhook(outcome, app, Number(process.hrtime.bigint() - started) / 1e9);
    });
    next();
  };
}

/**
 * With TRUST_PROXY=false, an X-Forwarded-For header means a proxy the service does not trust: every
 * client behind it shares one rate-limit bucket. Said once, as a JSON log line.
 */
function warnUntrustedForwardedFor({ config, logger }: AppDeps): RequestHandler {
  let warned = config.http.trustProxy !== false;
  return (req, _res, next) => {
    if (!warned && req.headers['x-forwarded-for'] !== undefined) {
      warned = true;
      logger.warn(
        { component: 'http', remoteAddress: req.socket.remoteAddress },
        'X-Forwarded-For received but TRUST_PROXY=false: every client behind this proxy shares one rate-limit bucket and logs show the proxy address; set TRUST_PROXY (hop count or the proxy addresses)',
      );
    }
    next();
  };
}

/**
 * The ingress ladder for webhooks, one rung per code: route → auth 401 → rate limit 429 →
 * content type 415 → size 413 → JSON 400 → schema 422 → persist (503) → 202.
 */
export function createRouter(deps: AppDeps): Router {
  const router = Router();
  const { config } = deps;

  const ingressLimit =
    config.http.ingressRateLimitPerMinute > 0
      ? rateLimit({
          windowMs: 60_000,
          limit: config.http.ingressRateLimitPerMinute,
          standardHeaders: 'draft-7',
          // The same client as every other budget: an IPv6 one by its /64.
          ipv6Subnet: CLIENT_IPV6_PREFIX,
          legacyHeaders: false,
          handler: (_req, _res, next) => next(new AppError('RATE_LIMITED', `more than ${config.http.ingressRateLimitPerMinute} webhooks a minute from this client`)),
          // Its own checks print multi-line text to the console; the one that matters is logged as JSON below.
          validate: false,
        })
      : [];
  const webhookAuth = requireToken(config.auth.webhookToken, 'webhook', deps.authGuard);
  const adminAuth = requireToken(config.auth.adminToken, 'admin', deps.authGuard);
  const events = createEventsController(deps);

  // The rate limit counts only authenticated webhooks: a flood with a wrong token cannot spend Argo CD's quota.
  router.post(['/', '/v1/webhooks/argocd'], observeWebhook(deps), warnUntrustedForwardedFor(deps), webhookAuth, ingressLimit, requireJsonContentType, parseJsonBody, createWebhookController(deps));
  // Any other method on the webhook path: say what it takes and where to look instead.
  router.all(['/', '/v1/webhooks/argocd'], (req, res, next) => {
    res.set('Allow', 'POST');
    next(new AppError('METHOD_NOT_ALLOWED', `${req.method} ${req.path}: the webhook takes POST only (Argo CD Notifications posts here); GET /healthz says whether the service is up, /ui/ is the status page`));
  });
  router.get('/v1/events', adminAuth, events.list);
  router.get('/v1/events/:id', adminAuth, events.get);
  router.post('/v1/events/:id/replay', adminAuth, events.replay);
  router.post('/v1/events/:id/acknowledge', adminAuth, requireJsonContentType, parseJsonBody, events.acknowledge);
  const apps = createAppsController(deps);
  router.get('/v1/apps', adminAuth, apps.list);
  // App names with a slash (apps in any namespace: "team-a/podinfo") are sent URL-encoded: team-a%2Fpodinfo.
  router.get('/v1/apps/:app', adminAuth, apps.get);
  router.post('/v1/apps/:app/pause', adminAuth, requireJsonContentType, parseJsonBody, apps.pause);
  router.post('/v1/apps/:app/resume', adminAuth, requireJsonContentType, parseJsonBody, apps.resume);
  const metricsAuth: RequestHandler = config.metrics.token === undefined ? (_req, _res, next) => next() : requireToken(config.metrics.token, 'metrics', deps.authGuard);
  router.get('/metrics', metricsAuth, async (_req, res) => {
    const registry = deps.metrics!.registry;
    res.set('Content-Type', registry.contentType).send(await registry.metrics());
  });
  router.get('/v1/status', adminAuth, createStatusController(deps));
  router.get('/openapi.json', (_req, res) => {
    res.json(OPENAPI_DOCUMENT);
  });
  router.get('/healthz', live);
  router.get('/readyz', createReadiness(deps));
  return router;
}
