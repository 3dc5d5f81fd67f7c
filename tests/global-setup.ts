import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { ensureChromium } from './support/browser';

/**
 * Makes sure Chromium is there for the browser suites (tests/support/browser.ts). Then creates a fresh
 * PostgreSQL database for this test run (dropped in global-teardown.ts) and hands its URL to the suites
 * as TEST_POSTGRES_URL. Where PostgreSQL cannot be reached the PostgreSQL suites are
 * skipped with a loud warning, except in CI (CI=true or REQUIRE_POSTGRES=1), where that fails the run.
 */
export default async function globalSetup(): Promise<void> {
  ensureChromium();
  // A temporary folder for this run's shared fixtures, removed by global-teardown.ts.
  process.env.TEST_RUN_TMP = mkdtempSync(join(tmpdir(), 'rollback-test-run-'));
  const adminUrl = process.env.POSTGRES_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const required = process.env.CI === 'true' || process.env.REQUIRE_POSTGRES === '1';
  const name = `rollback_test_${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
  try {
    await admin.connect();
    await admin.query(`create database ${name}`);
  } catch (error) {
    const message = `PostgreSQL at ${adminUrl.replace(/:[^:@/]*@/, ':***@')} is not usable (${(error as Error).message})`;
    if (required) throw new Error(`${message}: the PostgreSQL suites must run in CI. Start it: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`);
    process.stderr.write(`\n*** ${message}: PostgreSQL suites are SKIPPED. Set POSTGRES_ADMIN_URL or start PostgreSQL. ***\n\n`);
    process.env.TEST_POSTGRES_URL = '';
    return;
  } finally {
    await admin.end().catch(() => undefined);
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  process.env.TEST_POSTGRES_URL = url.toString();
  process.env.TEST_POSTGRES_DATABASE = name;
}
