// What a lost or refusing database looks like from Node: a socket error, or pg's own connection errors.
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'EAI_AGAIN']);
/** The file system's answers to the fsync of SQLite's WAL (WalSync): the disk failed, filled or turned read-only. */
const FILE_CODES: Record<string, StoreProblemKind> = { EIO: 'io_error', ENOSPC: 'disk_full', EDQUOT: 'disk_full', EROFS: 'read_only' };

/**
 * A write the database committed but that could not be made durable (SQLite: the fsync of its WAL
 * failed): it may be kept or lost, and the answer must say so rather than "not stored". Carries the
 * cause's code, so it is classified like the cause.
 */
export class UnconfirmedWriteError extends Error {
  readonly code: string | undefined;
  constructor(override readonly cause: unknown) {
    super(`the write was committed but the disk did not confirm it: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'UnconfirmedWriteError';
    this.code = typeof cause === 'object' && cause !== null && 'code' in cause && typeof cause.code === 'string' ? cause.code : undefined;
  }
}

/** By name, not instanceof: an error from another realm is one too. */
export function isUnconfirmedWrite(error: unknown): boolean {
  return error instanceof Error && error.name === 'UnconfirmedWriteError';
}
const CONNECTION_MESSAGES = /Connection terminated|Client has encountered a connection error|Cannot use a pool after calling end|driver has already been destroyed|The database connection is not open|Query read timeout|^timeout expired$/i;
/** pg-pool's message when no connection came free within its wait (PG_POOL_WAIT_MS): busy, not down. */
const POOL_BUSY_MESSAGE = /timeout exceeded when trying to connect/i;

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
  return /^(08|53|58)/.test(code) || /^57P0[1-5]$/.test(code) || [...PG_BUSY, '25006', '25P03'].includes(code);
}

/**
 * PostgreSQL's busy family: serialization failure, deadlock, lock not available, and a statement
 * cancelled by statement_timeout (PG_QUERY_TIMEOUT_MS: the database was too slow to answer in time).
 */
const PG_BUSY = ['40001', '40P01', '55P03', '57014'];

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
    if (SOCKET_CODES.has(code) || SQLITE_UNAVAILABLE.test(code) || code in FILE_CODES) return true;
    // A pg DatabaseError carries its SQLSTATE (five characters) as `code`.
    if (/^[0-9A-Z]{5}$/.test(code) && isPgUnavailable(code)) return true;
  }
  return error instanceof Error && (CONNECTION_MESSAGES.test(error.message) || POOL_BUSY_MESSAGE.test(error.message));
}

/** What kind of store problem an error is, by name, for the log, /v1/status and the status page. */
export type StoreProblemKind = 'disk_full' | 'read_only' | 'busy' | 'connection_lost' | 'io_error' | 'unavailable';

const PROBLEM_LABELS: Record<StoreProblemKind, string> = {
  disk_full: 'disk full',
  read_only: 'read-only',
  busy: 'busy (locked, too slow to answer, or no free connection)',
  connection_lost: 'connection lost',
  io_error: 'I/O error',
  unavailable: 'unavailable',
};

/** The named kind of a store-unavailable error (see isStoreUnavailable), or undefined for any other error. */
export function storeProblemOf(error: unknown): { kind: StoreProblemKind; label: string } | undefined {
  if (!isStoreUnavailable(error)) return undefined;
  const code = typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : '';
  const kind: StoreProblemKind = FILE_CODES[code] ??
    (/^SQLITE_FULL/.test(code) || code === '53100'
      ? 'disk_full'
      : /^SQLITE_READONLY/.test(code) || code === '25006'
        ? 'read_only'
        : /^SQLITE_(BUSY|LOCKED)/.test(code) || PG_BUSY.includes(code) || (error instanceof Error && POOL_BUSY_MESSAGE.test(error.message))
          ? 'busy'
          : /^SQLITE_IOERR/.test(code) || /^58/.test(code)
            ? 'io_error'
            : SOCKET_CODES.has(code) || /^08/.test(code) || /^57P0[1-3]$/.test(code) || code === '25P03' || (error instanceof Error && CONNECTION_MESSAGES.test(error.message))
              ? 'connection_lost'
              : 'unavailable');
  return { kind, label: PROBLEM_LABELS[kind] };
}

/** A spell of store errors: what it is, the first error of it (not what failed after it), since when, how many. */
export interface StoreProblem {
  kind: StoreProblemKind;
  label: string;
  /** The first error's code (SQLITE_FULL, 53100, EROFS…), '' when it had none. */
  code: string;
  first: string;
  since: number;
  lastAt: number;
  count: number;
}

/** A spell is over once a write succeeded and none failed for this long (a read-only poll may succeed on a full disk). */
export const STORE_PROBLEM_QUIET_MS = 60_000;

/**
 * Follows the store's answers: a spell starts at the first unavailable error, counts the ones after it,
 * and ends once a transaction succeeded and STORE_PROBLEM_QUIET_MS passed without another failure.
 */
export class StoreHealth {
  private spell: StoreProblem | undefined;
  private succeededAt = 0;

  constructor(private readonly now: () => number = Date.now) {}

  current(): StoreProblem | undefined {
    if (this.spell && this.succeededAt >= this.spell.lastAt && this.now() - this.spell.lastAt >= STORE_PROBLEM_QUIET_MS) this.spell = undefined;
    return this.spell;
  }

  succeeded(): void {
    this.succeededAt = this.now();
  }

  failed(error: unknown): void {
    const problem = storeProblemOf(error);
    if (!problem) return;
    const now = this.now();
    if (this.spell) {
      this.spell.count += 1;
      this.spell.lastAt = now;
      return;
    }
    // By shape, not instanceof: an error from another realm (a worker, a test's module registry) is one too.
    const { code, message: text } = (typeof error === 'object' && error !== null ? error : {}) as { code?: unknown; message?: unknown };
    const message = typeof text === 'string' ? `${typeof code === 'string' ? `${code}: ` : ''}${text}` : String(error);
    this.spell = { ...problem, code: typeof code === 'string' ? code : '', first: message.slice(0, 300), since: now, lastAt: now, count: 1 };
  }
}
