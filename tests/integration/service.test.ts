import { once } from 'node:events';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../../src/config/config';
import { createLogger } from '../../src/logger';
import { startService } from '../../src/service';
import { openStore } from '../../src/store/database';
import { createSqliteDatabase } from '../support/dialects';
import { WEBHOOK_TOKEN } from '../support/harness';

describe('startService', () => {
  it('when the port is taken, then the start fails with the reason and the store it opened is closed again', async () => {
    const squatter = createServer();
    squatter.listen(0, '127.0.0.1');
    await once(squatter, 'listening');
    const { port } = squatter.address() as AddressInfo;
    const database = createSqliteDatabase();
    const store = openStore(database.url);
    try {
      const config = loadConfig({ REPO_OWNER: 'acme', REPO_NAME: 'gitops', DRY_RUN: 'true', WEBHOOK_TOKEN, DATABASE_URL: database.url, HOST: '127.0.0.1', PORT: String(port) });
      await expect(startService(config, createLogger('silent'), { store })).rejects.toMatchObject({ code: 'EADDRINUSE' });
      // The listen failed before the migrations; the store is closed after: no file handle or pool outlives a failed start.
      await expect(store.ping()).rejects.toThrow(/destroyed|not open/);
    } finally {
      await store.close();
      squatter.close();
      await database.drop();
    }
  });
});
