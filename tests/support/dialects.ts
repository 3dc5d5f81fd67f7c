import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** A database URL for one suite, and how to throw it away. */
export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** A SQLite file in its own temp directory. */
export function createSqliteDatabase(): TestDatabase {
  const dir = mkdtempSync(join(tmpdir(), 'rollback-db-'));
  return {
    url: `sqlite:${join(dir, 'rollback.db')}`,
    drop: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
  };
}

/** This jest worker's own database (created on first use), so no other worker's schema comes and goes in it. */
let workerDatabase: Promise<string> | undefined;

function workerDatabaseUrl(base: string): Promise<string> {
  workerDatabase ??= (async () => {
    const url = new URL(base);
    const name = `${url.pathname.slice(1)}_w${process.env.JEST_WORKER_ID ?? '1'}`;
    const client = new pg.Client({ connectionString: base });
    await client.connect();
    try {
      await client.query(`create database ${name}`);
      // A test database need not survive a crash of PostgreSQL itself (no suite crashes it; "PostgreSQL
      // goes away" cuts the connection): commits return without waiting for their WAL flush.
      await client.query(`alter database ${name} set synchronous_commit = off`);
    } catch (error) {
      // 42P04: this worker made it already in an earlier suite file.
      if ((error as { code?: string }).code !== '42P04') throw error;
    } finally {
      await client.end();
    }
    url.pathname = `/${name}`;
    return url.toString();
  })();
  return workerDatabase;
}

/**
 * A schema of its own in this jest worker's database (dropped with the run's databases by
 * tests/global-teardown.ts), selected through the URL's search_path. One database per worker, not one
 * for the run: Kysely's Migrator introspects every schema of its database and looks each one up by
 * name, so a schema another worker dropped mid-query failed a migration with "schema … does not exist"
 * (an occasional failure under load). Within a worker, suites and tests run one at a time.
 */
export async function createPostgresDatabase(): Promise<TestDatabase> {
  const base = process.env.TEST_POSTGRES_URL;
  if (!base) throw new Error('TEST_POSTGRES_URL is not set: PostgreSQL suites need tests/global-setup.ts');
  const database = await workerDatabaseUrl(base);
  const schema = `s_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: database });
  await client.connect();
  await client.query(`create schema ${schema}`);
  await client.end();
  const url = new URL(database);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: database });
      await c.connect();
      await c.query(`drop schema if exists ${schema} cascade`);
      await c.end();
    },
  };
}

export type DialectName = 'sqlite' | 'postgres';

/**
 * The dialects a store suite runs against: SQLite and PostgreSQL, always (tests/global-setup.ts provides
 * a PostgreSQL server on every machine, starting one when none answers). Use with describe.each.
 */
export const DIALECTS: Array<[DialectName, () => Promise<TestDatabase>]> = [
  ['sqlite', () => Promise.resolve(createSqliteDatabase())],
  ['postgres', createPostgresDatabase],
];
