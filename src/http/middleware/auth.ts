import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { AppError } from '../../errors';

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/** The token a request presents: Bearer, the password of Basic (Argo CD's basicAuth), or X-Webhook-Token. */
export function presentedToken(authorization: string | undefined, headerToken: string | undefined): string | undefined {
  if (headerToken !== undefined && headerToken !== '') return headerToken;
  if (!authorization) return undefined;
  const space = authorization.indexOf(' ');
  if (space < 0) return undefined;
  const scheme = authorization.slice(0, space).toLowerCase();
  const credentials = authorization.slice(space + 1).trim();
  if (scheme === 'bearer') return credentials;
  if (scheme === 'basic') {
    const decoded = Buffer.from(credentials, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon < 0 ? undefined : decoded.slice(colon + 1);
  }
  return undefined;
}

/**
 * Requires the expected token. Both sides are hashed to a fixed length before the constant-time
 * comparison, so neither the token's content nor its length leaks through timing. Tokens in the
 * query string are deliberately ignored: URLs end up in proxy and access logs.
 */
export function requireToken(expected: string): RequestHandler {
  const expectedDigest = digest(expected);
  return (req, _res, next) => {
    const header = req.headers['x-webhook-token'];
    const token = presentedToken(req.headers.authorization, Array.isArray(header) ? header[0] : header);
    if (token !== undefined && timingSafeEqual(digest(token), expectedDigest)) return next();
    next(new AppError('UNAUTHORIZED', token === undefined ? 'no token: send Authorization: Bearer <token>, Basic auth, or X-Webhook-Token' : 'wrong token'));
  };
}

export const WWW_AUTHENTICATE = 'Bearer realm="gitops-rollback-webhook", Basic realm="gitops-rollback-webhook"';
