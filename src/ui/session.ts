import { createHash, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

/** The status page's session cookie: signed (cookie-parser), HttpOnly, SameSite=Strict, path /ui. */
export const SESSION_COOKIE = 'rollback_ui_session';

export interface Session {
  /** The session's id in the store (ui_sessions): signing out ends it there, for every replica. */
  id: string;
  /** Who signed in (asked at sign-in; recorded with every action). */
  name: string;
  /** The token every form posts back (the cross-site request guard beside SameSite=Strict). */
  csrf: string;
  /** Epoch ms; the cookie's Max-Age says the same, but a copied cookie must not outlive it either. */
  expires: number;
}

/**
 * The key that signs session cookies, derived from the admin token (HKDF): every replica signs alike
 * without another secret to configure, and changing ADMIN_TOKEN signs every session out.
 */
export function sessionSecret(adminToken: string): string {
  return Buffer.from(hkdfSync('sha256', adminToken, 'gitops-rollback-webhook', 'status page session cookie', 32)).toString('hex');
}

export function newSession(name: string, now: number, ttlMs: number): Session {
  return { id: randomBytes(32).toString('base64url'), name, csrf: randomBytes(32).toString('base64url'), expires: now + ttlMs };
}

/** The session a signed cookie holds, or undefined when it is missing, malformed or expired (the store says whether it was ended). */
export function readSession(value: unknown, now: number): Session | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { id, name, csrf, expires } = value as Record<string, unknown>;
  if (typeof id !== 'string' || typeof name !== 'string' || typeof csrf !== 'string' || typeof expires !== 'number') return undefined;
  return expires > now ? { id, name, csrf, expires } : undefined;
}

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

export function csrfMatches(session: Session, presented: unknown): boolean {
  return typeof presented === 'string' && timingSafeEqual(digest(presented), digest(session.csrf));
}
