import SQLite from 'better-sqlite3';
import pg from 'pg';
import { STORE_PROBLEM_QUIET_MS, StoreHealth, isStoreUnavailable, storeProblemOf } from '../../src/store/store-error';

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

const BUSY = 'busy (locked, too slow to answer, or no free connection)';

describe('storeProblemOf: an outage by name', () => {
  it.each([
    ['SQLite disk full', sqlite('SQLITE_FULL'), 'disk_full', 'disk full'],
    ['PostgreSQL disk full', postgres('53100'), 'disk_full', 'disk full'],
    ['SQLite read-only file', sqlite('SQLITE_READONLY'), 'read_only', 'read-only'],
    ['SQLite read-only database moved (extended)', sqlite('SQLITE_READONLY_DBMOVED'), 'read_only', 'read-only'],
    ['PostgreSQL read-only transaction (a standby)', postgres('25006'), 'read_only', 'read-only'],
    ['SQLite busy', sqlite('SQLITE_BUSY'), 'busy', BUSY],
    ['PostgreSQL deadlock', postgres('40P01'), 'busy', BUSY],
    ['PostgreSQL statement timeout (PG_QUERY_TIMEOUT_MS)', postgres('57014'), 'busy', BUSY],
    ['pg pool: no free connection within PG_POOL_WAIT_MS', new Error('timeout exceeded when trying to connect'), 'busy', BUSY],
    ['pg: no answer within query_timeout (a half-open connection)', new Error('Query read timeout'), 'connection_lost', 'connection lost'],
    ['pg pool: the connect timeout', new Error('Connection terminated due to connection timeout'), 'connection_lost', 'connection lost'],
    ["pg client: its own connect timeout (PG_CONNECT_TIMEOUT_MS)", new Error('timeout expired'), 'connection_lost', 'connection lost'],
    ['PostgreSQL idle in transaction too long', postgres('25P03'), 'connection_lost', 'connection lost'],
    ['SQLite I/O error on fsync', sqlite('SQLITE_IOERR_FSYNC'), 'io_error', 'I/O error'],
    ['PostgreSQL connection failure', postgres('08006'), 'connection_lost', 'connection lost'],
    ['a refused socket', socket('ECONNREFUSED'), 'connection_lost', 'connection lost'],
    ['pg pool: terminated', new Error('Connection terminated unexpectedly'), 'connection_lost', 'connection lost'],
    ['PostgreSQL out of memory', postgres('53200'), 'unavailable', 'unavailable'],
  ])('when %s, then %s', (_name, error, kind, label) => {
    expect(storeProblemOf(error)).toEqual({ kind, label });
  });

  it.each([
    ['a unique violation', sqlite('SQLITE_CONSTRAINT_UNIQUE')],
    ['a SQL bug', sqlite('SQLITE_ERROR')],
    ['a TypeError', new TypeError('x is undefined')],
  ])('when %s, then it is no store problem (a bug)', (_name, error) => {
    expect(storeProblemOf(error)).toBeUndefined();
  });
});

describe('StoreHealth: a spell of store errors', () => {
  it('when writes fail, then the first error is kept with the count; a success ends the spell only after a quiet minute', () => {
    let now = 1000;
    const health = new StoreHealth(() => now);
    expect(health.current()).toBeUndefined();
    health.failed(sqlite('SQLITE_FULL'));
    now += 10;
    health.failed(new Error('cannot rollback - no transaction is active'));
    health.failed(sqlite('SQLITE_IOERR'));
    expect(health.current()).toEqual({ kind: 'disk_full', label: 'disk full', code: 'SQLITE_FULL', first: 'SQLITE_FULL: sqlite said SQLITE_FULL', since: 1000, lastAt: 1010, count: 2 });
    // A read-only poll that succeeds on a full disk does not end it at once.
    health.succeeded();
    now += STORE_PROBLEM_QUIET_MS - 1;
    expect(health.current()?.count).toBe(2);
    now += 1;
    expect(health.current()).toBeUndefined();
    // Without a success, the spell stays however long it lasts.
    health.failed(socket('ECONNRESET'));
    now += 10 * STORE_PROBLEM_QUIET_MS;
    expect(health.current()).toMatchObject({ kind: 'connection_lost', count: 1 });
  });
});
