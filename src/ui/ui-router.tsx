import { resolve } from 'node:path';
import cookieParser from 'cookie-parser';
import express, { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import helmet from 'helmet';
import type { VNode } from 'preact';
import { renderToString } from 'preact-render-to-string';
import { PACKAGE_ROOT } from '../package-root';
import { AppError } from '../errors';
import type { AppDeps } from '../http/app-deps';
import { overBudget, spendFailure, tokenMatcher } from '../http/middleware/auth';
import { acknowledgeByHand, pauseByHand, replayByHand, resumeByHand } from '../rollback/actions-by-hand';
import { isStoreUnavailable } from '../store/store-error';
import { SESSION_COOKIE, csrfMatches, newSession, readSession, sessionSecret, type Session } from './session';
import { PageContext, type PageFacts } from './views/page-context';
import { endAllSessions, endSession, sessionStands, startSession } from '../store/ui-sessions.repository';
import { createOverviewLoader, loadApp, loadRollback, overviewTag } from './status-page-data';
import { AppPage } from './views/app-page';
import { LoginPage } from './views/login';
import { OverviewLive, OverviewPage } from './views/overview';
import { appHref, eventHref } from './views/parts';
import { RollbackPage } from './views/rollback-page';
import { ConfirmPage, ErrorPage } from './views/simple-pages';

/** The stylesheet and the script, in public/ beside src/ and dist/ (the image copies it). */
export const PUBLIC_DIR = resolve(PACKAGE_ROOT, 'public');

const EVENT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Where the sign-in form may send people back to: a page of this UI, nothing else. */
const NEXT_PAGE = /^\/ui\/(?:[A-Za-z0-9._~%-]+(?:\/[A-Za-z0-9._~%-]+)*)?(?:\?[A-Za-z0-9=&._%-]*)?$/;

/**
 * Where to go after signing in: a page under /ui/, as the browser will resolve it (`%2e%2e` is `..` to a
 * URL parser, so /ui/%2e%2e/evil is /evil), else the overview.
 */
export function safeNext(value: unknown): string {
  if (typeof value !== 'string' || !NEXT_PAGE.test(value)) return '/ui/';
  const resolved = new URL(value, 'http://service.invalid');
  return resolved.pathname.startsWith('/ui/') ? `${resolved.pathname}${resolved.search}` : '/ui/';
}

/**
 * Whether a form's Origin is this service: scheme, host and port, as the browser reached it. Behind a proxy
 * that ends TLS the scheme is its X-Forwarded-Proto, trusted or not: a page elsewhere cannot make a browser
 * send that header with a form, so it cannot help a forged post.
 */
function sameOrigin(origin: string, req: Request): boolean {
  const host = req.get('host');
  const forwarded = req.get('x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase();
  const scheme = forwarded === 'https' || forwarded === 'http' ? forwarded : req.protocol;
  if (!URL.canParse(origin) || host === undefined || !URL.canParse(`${scheme}://${host}`)) return false;
  return new URL(origin).origin === new URL(`${scheme}://${host}`).origin;
}

function sendHtml(res: Response, status: number, view: VNode, doctype: boolean): void {
  // Pages show the app's state and the session's form token: never cached, never framed.
  res
    .status(status)
    .type('html')
    .set('Cache-Control', 'no-store')
    .send(`${doctype ? '<!doctype html>' : ''}${renderToString(view)}`);
}

const text = (value: unknown, max: number): string | undefined => {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed.length > 0 && trimmed.length <= max ? trimmed : undefined;
};

/**
 * The status page under /ui/: server-rendered HTML (Preact, which escapes every text), one stylesheet and
 * one script from public/, a strict Content-Security-Policy, sign-in with the admin token into a signed,
 * HttpOnly, SameSite=Strict cookie, and form POSTs that carry the session's token.
 */
export function createUiRouter(deps: AppDeps): Router {
  const { config, store, clock, wiring } = deps;
  const router = Router();
  const adminMatches = tokenMatcher(config.auth.adminToken);
  const loadOverview = createOverviewLoader(config, store, wiring);
  const session = (res: Response) => res.locals.session as Session;
  const facts: PageFacts = { dryRun: config.dryRun, dryRunRoutes: config.dryRun ? [] : config.routes.filter((r) => r.dryRun === true).map((r) => r.app) };
  const html = (res: Response, status: number, view: VNode, doctype = true) => sendHtml(res, status, <PageContext.Provider value={facts}>{view}</PageContext.Provider>, doctype);

  router.use(
    '/ui',
    helmet.contentSecurityPolicy({
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'"],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
    }),
  );
  // Same-origin requests carry the Origin header the form check reads; links out (GitHub) carry no referrer.
  router.use('/ui', helmet.referrerPolicy({ policy: 'same-origin' }));
  router.use('/ui/static', express.static(PUBLIC_DIR, { index: false, maxAge: '1h', fallthrough: false }));
  router.use('/ui', cookieParser(sessionSecret(config.auth.adminToken)));
  // A form value with a NUL character (which PostgreSQL's text cannot hold) is refused as bad input.
  const urlencoded = express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 20 });
  const form: RequestHandler = (req, res, next) =>
    urlencoded(req, res, (error?: unknown) => {
      if (error) return next(error);
      const nul = Object.entries((req.body ?? {}) as Record<string, unknown>).find(([, value]) => typeof value === 'string' && value.includes('\u0000'));
      next(nul ? new AppError('INVALID_PAYLOAD', `${nul[0]}: contains a NUL character, which is not accepted`) : undefined);
    });

  /** Pages need a session: without one, GETs go to the sign-in form and come back; the live fragment says 401. */
  const signedIn: RequestHandler = async (req, res, next) => {
    const now = clock.now();
    const current = readSession((req.signedCookies as Record<string, unknown>)[SESSION_COOKIE], now);
    // The signature says who; the store says whether the session still stands (signed out, everywhere).
    if (current && (await sessionStands(store.db, current.id, now))) {
      res.locals.session = current;
      return next();
    }
    if (req.path === '/ui/overview/live') {
      res.status(401).type('text').send('signed out');
      return;
    }
    const nextPage = req.method === 'GET' && NEXT_PAGE.test(req.originalUrl) ? `?next=${encodeURIComponent(req.originalUrl)}` : '';
    res.redirect(303, `/ui/login${nextPage}`);
  };

  /**
   * Every form POST: the session's token, and an Origin of this host when the browser names one. "null"
   * (what a browser sends under a no-referrer policy or from a privacy mode) names none: the token and
   * the SameSite=Strict cookie still stand.
   */
  const sameSite: RequestHandler = (req, res, next) => {
    const body = req.body as Record<string, unknown> | undefined;
    const origin = req.headers.origin;
    const fromHere = origin === undefined || origin === 'null' || sameOrigin(origin, req);
    if (fromHere && csrfMatches(session(res), body?._csrf)) return next();
    req.log.warn({ component: 'ui', path: req.path, origin }, 'status page form refused: missing or wrong form token, or another origin');
    html(res, 403, <ErrorPage status={403} message="This form was not sent from this page (its token is missing or stale). Reload the page and try again." session={session(res)} />);
  };

  router.get('/ui/login', (req, res) => {
    const next = safeNext(req.query.next);
    html(res, 200, <LoginPage next={next} />);
  });

  // The form spends from the same failed-authentication budget as every route that takes a token: only a
  // wrong token counts, so the owner who signs in now and then is never locked out.
  router.post('/ui/login', form, async (req, res) => {
    const body = req.body as Record<string, unknown>;
    const next = safeNext(body.next);
    const blocked = overBudget(req, res, deps.authGuard);
    if (blocked) return html(res, 429, <LoginPage next={next} error={`Too many wrong tokens from this address: ${blocked.message.replace(/^.*; /, '')}.`} />);
    const name = text(body.name, 100);
    const token = typeof body.token === 'string' ? body.token : '';
    if (!name) return html(res, 400, <LoginPage next={next} error="Say who you are: your name is recorded with what you do." />);
    if (!adminMatches([token])) {
      spendFailure(req, deps.authGuard);
      req.log.warn({ component: 'ui', name }, 'status page sign-in refused: wrong admin token');
      return html(res, 401, <LoginPage next={next} name={name} error="Wrong token." />);
    }
    const started = newSession(name, clock.now(), config.ui.sessionMs);
    await store.transaction((trx) => startSession(trx, started, clock.now()));
    res.cookie(SESSION_COOKIE, started, {
      signed: true,
      httpOnly: true,
      sameSite: 'strict',
      secure: config.ui.cookieSecure || req.secure,
      path: '/ui',
      maxAge: config.ui.sessionMs,
    });
    req.log.info({ component: 'ui', name }, 'status page sign-in');
    res.redirect(303, next);
  });

  // Sign-out ends the session in the store: a copy of the cookie opens nothing after it, on any replica.
  router.post('/ui/logout', signedIn, form, sameSite, async (req, res) => {
    await store.transaction((trx) => endSession(trx, session(res).id, clock.now()));
    res.clearCookie(SESSION_COOKIE, { path: '/ui' });
    req.log.info({ component: 'ui', name: session(res).name }, 'status page sign-out');
    res.redirect(303, '/ui/login');
  });

  // Every session ends, this one too (a lost laptop, a shared screen).
  router.post('/ui/logout-everywhere', signedIn, form, sameSite, async (req, res) => {
    const ended = await store.transaction((trx) => endAllSessions(trx, clock.now()));
    res.clearCookie(SESSION_COOKIE, { path: '/ui' });
    req.log.info({ component: 'ui', name: session(res).name, ended }, 'status page: every session signed out');
    res.redirect(303, '/ui/login');
  });

  router.get(['/ui', '/ui/'], signedIn, async (req, res) => {
    const data = await loadOverview(req.query.page, clock.now());
    html(res, 200, <OverviewPage data={data} session={session(res)} />);
  });

  // public/ui.js sends the last ETag back; while nothing changed the answer is 304 and no render.
  router.get('/ui/overview/live', signedIn, async (req, res) => {
    const now = clock.now();
    const tag = await overviewTag(store, wiring, req.query.page, now);
    res.set('ETag', tag);
    if (req.get('If-None-Match') === tag) {
      res.status(304).set('Cache-Control', 'no-store').end();
      return;
    }
    const data = await loadOverview(req.query.page, now);
    html(res, 200, <OverviewLive data={data} />, false);
  });

  router.get('/ui/apps/:app', signedIn, async (req, res) => {
    const app = String(req.params.app);
    const data = await loadApp(config, store, app, req.query.page, clock.now());
    if (!data) throw new AppError('NOT_FOUND', `no reports, rollbacks or actions for app ${JSON.stringify(app)}`);
    html(res, 200, <AppPage data={data} session={session(res)} />);
  });

  router.get('/ui/events/:id', signedIn, async (req, res) => {
    const id = String(req.params.id);
    const data = EVENT_ID.test(id) ? await loadRollback(config, store, id, clock.now()) : undefined;
    if (!data) throw new AppError('NOT_FOUND', 'no such rollback');
    html(res, 200, <RollbackPage data={data} session={session(res)} />);
  });

  /**
   * Each action in two steps: the form says why, the confirmation page says what will happen and posts
   * again with confirm=yes. Recorded with the signed-in name and the reason (src/rollback/actions-by-hand.ts).
   */
  const action =
    (confirm: (req: Request) => { title: string; question: string; back: string }, act: (req: Request, res: Response, reason: string) => Promise<string>): RequestHandler =>
    async (req, res) => {
      const body = req.body as Record<string, unknown>;
      const reason = text(body.reason, 500);
      const { title, question, back } = confirm(req);
      if (!reason) return html(res, 400, <ErrorPage status={400} message="Say why (at most 500 characters): it is recorded with the action." session={session(res)} />);
      if (body.confirm !== 'yes') return html(res, 200, <ConfirmPage session={session(res)} title={title} question={question} action={req.originalUrl} reason={reason} back={back} />);
      res.redirect(303, await act(req, res, reason));
    };

  const appOf = (req: Request) => String(req.params.app);
  router.post(
    '/ui/apps/:app/pause',
    signedIn,
    form,
    sameSite,
    action(
      (req) => ({ title: 'Pause rollbacks', question: `Pause ${appOf(req)}? Its rollbacks will be recorded and refused until someone resumes it.`, back: appHref(appOf(req)) }),
      async (req, res, reason) => {
        const { by } = await pauseByHand(store, appOf(req), { by: session(res).name, reason, via: 'ui' }, clock.now());
        req.log.warn({ component: 'ui', app: appOf(req), by, reason }, `app paused from the status page: its rollbacks are refused until resumed (${reason})`);
        return appHref(appOf(req));
      },
    ),
  );
  router.post(
    '/ui/apps/:app/resume',
    signedIn,
    form,
    sameSite,
    action(
      (req) => ({ title: 'Resume rollbacks', question: `Resume ${appOf(req)}? Its next Degraded report rolls back again.`, back: appHref(appOf(req)) }),
      async (req, res, reason) => {
        const ended = await resumeByHand(store, appOf(req), { by: session(res).name, reason, via: 'ui' }, clock.now());
        req.log.warn({ component: 'ui', app: appOf(req), by: session(res).name, reason, wasPaused: ended !== undefined }, 'app resumed from the status page');
        return appHref(appOf(req));
      },
    ),
  );
  router.post(
    '/ui/events/:id/replay',
    signedIn,
    form,
    sameSite,
    action(
      (req) => ({ title: 'Replay', question: `Replay rollback ${String(req.params.id)}? It is queued again and sent to GitHub once more (or recorded again in dry run).`, back: eventHref(String(req.params.id)) }),
      async (req, res, reason) => {
        const id = String(req.params.id);
        if (!EVENT_ID.test(id)) throw new AppError('NOT_FOUND', 'no such rollback');
        const { previous } = await replayByHand(config, store, id, { by: session(res).name, reason, via: 'ui' }, clock.now());
        req.log.info({ component: 'ui', eventId: id, previous, by: session(res).name, reason }, 'replay requested from the status page');
        deps.onEventStored?.();
        return eventHref(id);
      },
    ),
  );

  router.post(
    '/ui/events/:id/acknowledge',
    signedIn,
    form,
    sameSite,
    action(
      (req) => ({ title: 'Acknowledge', question: `Acknowledge rollback ${String(req.params.id)}? It leaves the overview's banner, recorded with your name and why.`, back: eventHref(String(req.params.id)) }),
      async (req, res, reason) => {
        const id = String(req.params.id);
        if (!EVENT_ID.test(id)) throw new AppError('NOT_FOUND', 'no such rollback');
        const { app, outcome } = await acknowledgeByHand(store, id, { by: session(res).name, reason, via: 'ui' }, clock.now());
        req.log.info({ component: 'ui', eventId: id, app, outcome, by: session(res).name, reason }, `rollback acknowledged from the status page: ${reason}`);
        return eventHref(id);
      },
    ),
  );

  // Errors under /ui/ are pages, not JSON.
  router.use('/ui', (error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    const current = res.locals.session as Session | undefined;
    if (error instanceof AppError) return html(res, error.status, <ErrorPage status={error.status} message={error.message} session={current} />);
    if (isStoreUnavailable(error)) {
      req.log.error({ component: 'ui', err: error }, 'status page: the store is unavailable');
      return html(res, 503, <ErrorPage status={503} message="The store is unavailable; try again in a moment." session={current} />);
    }
    const status = typeof (error as { status?: unknown }).status === 'number' ? (error as { status: number }).status : 500;
    if (status >= 500) req.log.error({ component: 'ui', err: error }, 'status page failed');
    html(res, status, <ErrorPage status={status} message={status >= 500 ? 'Something went wrong; the log says what.' : 'The request was not understood.'} session={current} />);
  });
  return router;
}
