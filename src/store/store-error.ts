import SQLite from 'better-sqlite3';
import { loadedPgModule } from './pg-module';

// What a lost or refusing database looks like from Node: a socket error, or pg's own connection errors.
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'EAI_AGAIN', '57P01', '57P02', '57P03', '08000', '08003', '08006', '53300']);
const CONNECTION_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Cannot use a pool after calling end|driver has already been destroyed|The database connection is not open/i;

/**
 * True when `error` came from the store (SQLite or PostgreSQL said no, or could not be reached): the
 * request is answered 503 STORE_UNAVAILABLE, which Argo CD retries. Anything else is a bug or an
 * unexpected input and is answered 500 INTERNAL, never disguised as a database outage.
 */
export function isStoreError(error: unknown): boolean {
  if (error instanceof SQLite.SqliteError || isPgError(error)) return true;
  if (typeof error !== 'object' || error === null) return false;
  const code = 'code' in error && typeof error.code === 'string' ? error.code : undefined;
  if (code !== undefined && (CONNECTION_CODES.has(code) || code.startsWith('SQLITE_'))) return true;
  return error instanceof Error && CONNECTION_MESSAGES.test(error.message);
}

function isPgError(error: unknown): boolean {
  const pg = loadedPgModule();
  return pg !== undefined && error instanceof pg.DatabaseError;
}
