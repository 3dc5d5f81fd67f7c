// What a lost or refusing database looks like from Node: a socket error, or pg's own connection errors.
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'EAI_AGAIN']);
const CONNECTION_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Cannot use a pool after calling end|driver has already been destroyed|The database connection is not open/i;

/**
 * SQLite result codes (better-sqlite3's `code`, extended codes included) that say the database cannot be
 * used right now: busy or locked by another writer, an I/O error, a full disk, a read-only file, a file
 * that cannot be opened or is not (or no longer) a database. Everything else SQLite says (a constraint,
 * a missing table or column, a syntax error, a type mismatch) is about the statement: a bug.
 */
const SQLITE_UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|READONLY|CANTOPEN|CORRUPT|NOTADB|NOLFS|PROTOCOL)(_|$)/;

/**
 * PostgreSQL SQLSTATEs that say the same: class 08 (connection exception), 53 (insufficient resources:
 * disk full, out of memory, too many connections), 57P01–57P05 (shut down, crashed, starting, idle
 * session timeout), 58 (system and I/O errors), a read-only transaction (a standby), and the busy or
 * locked family (serialization failure, deadlock, lock not available), which a retry resolves.
 */
function isPgUnavailable(code: string): boolean {
  return /^(08|53|58)/.test(code) || /^57P0[1-5]$/.test(code) || ['25006', '40001', '40P01', '55P03'].includes(code);
}

/**
 * True when `error` means the store is unavailable (unreachable, down, out of space, busy or read-only):
 * the request is answered 503 STORE_UNAVAILABLE, which Argo CD retries. Any other error, a database
 * error included (a constraint violation, a SQL bug), is a bug or an unexpected input: 500 INTERNAL,
 * logged as such, never disguised as an outage.
 */
export function isStoreUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = 'code' in error && typeof error.code === 'string' ? error.code : undefined;
  if (code !== undefined) {
    if (SOCKET_CODES.has(code) || SQLITE_UNAVAILABLE.test(code)) return true;
    // A pg DatabaseError carries its SQLSTATE (five characters) as `code`.
    if (/^[0-9A-Z]{5}$/.test(code) && isPgUnavailable(code)) return true;
  }
  return error instanceof Error && CONNECTION_MESSAGES.test(error.message);
}
