import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
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

/** Requires the expected token. Tokens in the query string are deliberately ignored: URLs end up in proxy and access logs. */
export function requireToken(expected: string): RequestHandler {
  const matches = tokenMatcher(expected);
  return (req, _res, next) => {
    const header = req.headers['x-webhook-token'];
    const tokens = presentedTokens(req.headers.authorization, Array.isArray(header) ? header[0] : header);
    if (matches(tokens)) return next();
    next(new AppError('UNAUTHORIZED', tokens.length === 0 ? 'no token: send Authorization: Bearer <token>, Basic auth, or X-Webhook-Token' : 'wrong token'));
  };
}

export const WWW_AUTHENTICATE = 'Bearer realm="gitops-rollback-webhook", Basic realm="gitops-rollback-webhook"';
