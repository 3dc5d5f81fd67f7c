/** What Argo CD's Go templates render for a missing field; named in the error so the operator can fix the template. */
export const NO_VALUE = '<no value>';

const HEX = /^[0-9a-f]+$/;

export type RevisionCheck = { ok: true; value: string } | { ok: false; reason: string };

/**
 * A failed revision may be abbreviated (7–64 hex); a rollback target must be a full commit id,
 * 40 hex (SHA-1) or 64 hex (SHA-256), so the workflow restores exactly that commit.
 */
export function checkRevision(raw: unknown, kind: 'failed' | 'target'): RevisionCheck {
  if (typeof raw !== 'string') return { ok: false, reason: 'expected a hex commit id string' };
  const value = raw.trim().toLowerCase();
  if (value === NO_VALUE) return { ok: false, reason: `got "${NO_VALUE}": the Argo CD template referenced a missing field` };
  if (!HEX.test(value)) return { ok: false, reason: 'expected a hex commit id (0-9, a-f)' };
  if (kind === 'target') {
    if (value.length !== 40 && value.length !== 64) {
      return { ok: false, reason: `expected a full commit id of 40 or 64 hex characters, got ${value.length}` };
    }
  } else if (value.length < 7 || value.length > 64) {
    return { ok: false, reason: `expected 7 to 64 hex characters, got ${value.length}` };
  }
  return { ok: true, value };
}
