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

/**
 * A schema of its own in this run's PostgreSQL database (tests/global-setup.ts), selected through the
 * URL's search_path, so suites running in parallel never see each other's tables.
 */
export async function createPostgresDatabase(): Promise<TestDatabase> {
  const base = process.env.TEST_POSTGRES_URL;
  if (!base) throw new Error('TEST_POSTGRES_URL is not set: PostgreSQL suites need tests/global-setup.ts');
  const schema = `s_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: base });
  await client.connect();
  await client.query(`create schema ${schema}`);
  await client.end();
  const url = new URL(base);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`drop schema if exists ${schema} cascade`);
      await c.end();
    },
  };
}

export type DialectName = 'sqlite' | 'postgres';

/**
 * The dialects a store suite runs against: SQLite always, PostgreSQL whenever this run has a database
 * (always in CI, where global-setup fails the run instead of skipping). Use with describe.each.
 */
export const DIALECTS: Array<[DialectName, () => Promise<TestDatabase>]> = [
  ['sqlite', () => Promise.resolve(createSqliteDatabase())],
  ...(process.env.TEST_POSTGRES_URL ? [['postgres', createPostgresDatabase] as [DialectName, () => Promise<TestDatabase>]] : []),
];
