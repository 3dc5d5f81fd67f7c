import { rmSync } from 'node:fs';
import pg from 'pg';

/**
 * Removes this run's temporary folder (what jest workers, which end without running exit handlers,
 * leave there), then drops the database global-setup.ts created for this run, and each jest worker's
 * (tests/support/dialects.ts), and stops the embedded PostgreSQL if the run started one.
 */
export default async function globalTeardown(): Promise<void> {
  if (process.env.TEST_RUN_TMP) rmSync(process.env.TEST_RUN_TMP, { recursive: true, force: true });
  const server = globalThis.testPostgres;
  const name = process.env.TEST_POSTGRES_DATABASE;
  try {
    if (!server || !name) return;
    const admin = new pg.Client({ connectionString: server.adminUrl });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ datname: string }>(`select datname from pg_database where datname = $1 or datname like $2`, [name, `${name}\\_w%`]);
      for (const { datname } of rows) await admin.query(`drop database if exists ${datname} with (force)`);
    } finally {
      await admin.end();
    }
  } finally {
    await server?.stop();
  }
}
