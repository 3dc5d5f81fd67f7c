import SQLite from 'better-sqlite3';
import pg from 'pg';
import { isStoreUnavailable } from '../../src/store/store-error';

const sqlite = (code: string) => new SQLite.SqliteError(`sqlite said ${code}`, code);
const postgres = (code: string) => Object.assign(new pg.DatabaseError(`postgres said ${code}`, 0, 'error'), { code });
const socket = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code });

/**
 * Only an outage is answered 503 (Argo CD retries, nothing was stored); a database error that is about
 * the statement (a constraint, a missing table, a syntax error) is a bug: 500, logged as one.
 */
describe('isStoreUnavailable', () => {
  it.each([
    ['SQLite busy', sqlite('SQLITE_BUSY'), true],
    ['SQLite locked', sqlite('SQLITE_LOCKED'), true],
    ['SQLite busy snapshot (extended code)', sqlite('SQLITE_BUSY_SNAPSHOT'), true],
    ['SQLite I/O error', sqlite('SQLITE_IOERR'), true],
    ['SQLite I/O error on fsync', sqlite('SQLITE_IOERR_FSYNC'), true],
    ['SQLite disk full', sqlite('SQLITE_FULL'), true],
    ['SQLite read-only file', sqlite('SQLITE_READONLY'), true],
    ['SQLite cannot open', sqlite('SQLITE_CANTOPEN'), true],
    ['SQLite unique violation', sqlite('SQLITE_CONSTRAINT_UNIQUE'), false],
    ['SQLite trigger abort', sqlite('SQLITE_CONSTRAINT_TRIGGER'), false],
    ['SQLite no such table', sqlite('SQLITE_ERROR'), false],
    ['SQLite type mismatch', sqlite('SQLITE_MISMATCH'), false],
    ['SQLite closed connection', new TypeError('The database connection is not open'), true],
    ['PostgreSQL connection failure', postgres('08006'), true],
    ['PostgreSQL admin shutdown', postgres('57P01'), true],
    ['PostgreSQL cannot connect now', postgres('57P03'), true],
    ['PostgreSQL disk full', postgres('53100'), true],
    ['PostgreSQL too many connections', postgres('53300'), true],
    ['PostgreSQL I/O error', postgres('58030'), true],
    ['PostgreSQL read-only transaction', postgres('25006'), true],
    ['PostgreSQL serialization failure', postgres('40001'), true],
    ['PostgreSQL deadlock', postgres('40P01'), true],
    ['PostgreSQL unique violation', postgres('23505'), false],
    ['PostgreSQL check violation', postgres('23514'), false],
    ['PostgreSQL undefined table', postgres('42P01'), false],
    ['PostgreSQL syntax error', postgres('42601'), false],
    ['PostgreSQL division by zero', postgres('22012'), false],
    ['refused connection', socket('ECONNREFUSED'), true],
    ['reset connection', socket('ECONNRESET'), true],
    ['pg connection ended', new Error('Connection terminated unexpectedly'), true],
    ['a TypeError', new TypeError("Cannot read properties of undefined (reading 'x')"), false],
    ['not an error', 'boom', false],
  ])('%s → %s', (_name, error, unavailable) => {
    expect(isStoreUnavailable(error)).toBe(unavailable);
  });
});
