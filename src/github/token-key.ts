import { createHash } from 'node:crypto';

/**
 * A stable, non-secret name for one GitHub token on one API: what the shared dispatch slot is keyed
 * by, so every replica using the same token shares one pace. The token itself is never stored.
 */
export function tokenKeyFor(apiUrl: string, token: string): string {
  return createHash('sha256').update(`${apiUrl}\n${token}`, 'utf8').digest('hex').slice(0, 32);
}
