import pg from 'pg';

/** Drops the database global-setup.ts created for this run. */
export default async function globalTeardown(): Promise<void> {
  const name = process.env.TEST_POSTGRES_DATABASE;
  if (!name) return;
  const admin = new pg.Client({ connectionString: process.env.POSTGRES_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' });
  await admin.connect();
  try {
    await admin.query(`drop database if exists ${name} with (force)`);
  } finally {
    await admin.end();
  }
}
