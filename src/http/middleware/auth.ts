import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, RequestHandler, Response } from 'express';
import type { Clock } from '../../clock';
import { clientKeyOf } from '../client-key';
import { AUTH_FAILURES_PER_MINUTE, type AuthFailureBudget } from './auth-failures';
import { AppError } from '../../errors';

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/** Every token a request presents: X-Webhook-Token, Bearer, the password of Basic (Argo CD's basicAuth). */
export function presentedTokens(authorization: string | undefined, headerToken: string | undefined): string[] {
  const tokens: string[] = [];
  if (headerToken !== undefined && headerToken !== '') tokens.push(headerToken);
  const space = authorization?.indexOf(' ') ?? -1;
  if (authorization && space > 0) {
    const scheme = authorization.slice(0, space).toLowerCase();
    const credentials = authorization.slice(space + 1).trim();
    if (scheme === 'bearer') tokens.push(credentials);
    if (scheme === 'basic') {
      const decoded = Buffer.from(credentials, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon >= 0) tokens.push(decoded.slice(colon + 1));
    }
  }
  return tokens;
}

/**
 * Compares presented tokens with the expected one. Both sides are hashed to a fixed length before the
 * constant-time comparison, so neither the token's content nor its length leaks through timing.
 */
export function tokenMatcher(expected: string): (presented: readonly string[]) => boolean {
  const expectedDigest = digest(expected);
  return (presented) => {
    // Any one matches (a stale X-Webhook-Token beside a right Bearer is no reason to refuse); all are compared.
    let matched = false;
    for (const token of presented) matched = timingSafeEqual(digest(token), expectedDigest) || matched;
    return matched;
  };
}

/** Which token an endpoint takes, as its refusal names it (never anything of the value sent). */
export type TokenKind = 'webhook' | 'admin' | 'metrics';
const TAKES: Record<TokenKind, string> = {
  webhook: 'this is the webhook: it takes the webhook token (WEBHOOK_TOKEN), not the admin token',
  admin: 'this endpoint takes the admin token (ADMIN_TOKEN; the same as WEBHOOK_TOKEN when ADMIN_TOKEN is not set)',
  metrics: 'this endpoint takes the metrics token (METRICS_TOKEN, else ADMIN_TOKEN)',
};
/** Query parameters that look like a credential. */
const QUERY_TOKEN = /^(?:token|access_token|api_key|apikey|key|webhook_token|admin_token)$/i;

/** The failed-authentication budget a route spends from (src/http/middleware/auth-failures.ts). */
export interface FailureGuard {
  budget: AuthFailureBudget;
  clock: Clock;
  /** This failure used up `address`'s budget: said once per address per minute. */
  onExhausted(req: Request, address: string): void;
  /** A request refused with 429 because its address is over budget. */
  onBlocked(): void;
}

/** The client a budget is kept for: its address (behind a trusted proxy, X-Forwarded-For's), an IPv6 one as its /64. */
export const clientAddress = (req: Request): string => clientKeyOf(req.ip ?? req.socket.remoteAddress ?? 'unknown');

/** 429 with Retry-After when the request's address has used up its budget, else undefined. */
export function overBudget(req: Request, res: Response, guard: FailureGuard | undefined): AppError | undefined {
  if (!guard) return undefined;
  const waitMs = guard.budget.waitMs(clientAddress(req), guard.clock.now());
  if (waitMs <= 0) return undefined;
  guard.onBlocked();
  const seconds = Math.ceil(waitMs / 1000);
  res.set('Retry-After', String(seconds));
  return new AppError('RATE_LIMITED', `more than ${AUTH_FAILURES_PER_MINUTE} failed authentications a minute from this address; try again in ${seconds} s`);
}

/** Spends one failure of the request's address. */
export function spendFailure(req: Request, guard: FailureGuard | undefined): void {
  if (!guard) return;
  const address = clientAddress(req);
  if (guard.budget.fail(address, guard.clock.now())) guard.onExhausted(req, address);
}

/**
 * Requires the expected token, from a header. A token in the query string is refused by name: URLs end up
 * in proxy and access logs, so the service never reads one. Each refusal spends from the address's
 * failure budget; an address over it gets 429 before its token is looked at.
 */
export function requireToken(expected: string, kind: TokenKind, guard?: FailureGuard): RequestHandler {
  const matches = tokenMatcher(expected);
  return (req, res, next) => {
    const blocked = overBudget(req, res, guard);
    if (blocked) return next(blocked);
    const header = req.headers['x-webhook-token'];
    const tokens = presentedTokens(req.headers.authorization, Array.isArray(header) ? header[0] : header);
    if (matches(tokens)) {
      // Authenticated and within budget: now, and only now, the client may send its body.
      if (String(req.headers.expect).toLowerCase() === '100-continue') res.writeContinue();
      return next();
    }
    const inQuery = Object.keys(req.query).find((name) => QUERY_TOKEN.test(name));
    // A request with no token at all guesses nothing: only a wrong one spends.
    if (tokens.length > 0 || inQuery !== undefined) spendFailure(req, guard);
    if (inQuery !== undefined) {
      return next(new AppError('UNAUTHORIZED', `a token in the query string (${inQuery}=) is never read, because URLs are logged: send it as Authorization: Bearer <token>, Basic auth, or X-Webhook-Token, and change it if it was real`));
    }
    next(new AppError('UNAUTHORIZED', tokens.length === 0 ? `no token: send Authorization: Bearer <token>, Basic auth, or X-Webhook-Token; ${TAKES[kind]}` : `wrong token: ${TAKES[kind]}`));
  };
}

/**
 * The listener's answer to `Expect: 100-continue` (Node's 'checkContinue'): none of its own. The request
 * goes to the app, whose token check (requireToken) sends "100 Continue" once the token is right and the
 * address within its failure budget: an address over budget gets its 429, a wrong token its 401, before
 * anything else, so a 100 answers no guess.
 */
export function continueAfterAuth(app: (req: IncomingMessage, res: ServerResponse) => void) {
  return (req: IncomingMessage, res: ServerResponse): void => app(req, res);
}

export const WWW_AUTHENTICATE = 'Bearer realm="gitops-rollback-webhook", Basic realm="gitops-rollback-webhook"';
