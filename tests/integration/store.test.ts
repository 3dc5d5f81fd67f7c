import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type Store } from '../../src/store/database';
import { insertEvent, isUniqueViolation, type NewEvent } from '../../src/store/events.repository';

describe('SQLite store', () => {
  let dir: string;
  let store: Store;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rollback-store-'));
    store = openStore(`sqlite:${join(dir, 'nested', 'rollback.db')}`);
    await store.migrate();
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const event = (id: string, status: NewEvent['status'], app = 'podinfo-prod'): NewEvent => ({
    id,
    app,
    failedRevision: '9f1c2e7d4b8a6f3e0d5c1b9a7e2f4d6c8b0a3e51',
    healthyRevision: '3b7e0c5a9d2f41e8b6c7a1f0e9d8c7b6a5f4e3d2',
    target: { owner: 'acme', repo: 'gitops' },
    eventType: 'argo-degraded',
    dispatchBody: '{}',
    status,
    requestId: null,
    targetReason: 'from payload',
    suppressionReason: status === 'suppressed' ? 'loop guard' : null,
  });

  it('when two rollbacks with the same key are inserted, then the second is a unique violation (what settles races)', async () => {
    await insertEvent(store.db, event('00000000-0000-7000-8000-000000000001', 'queued'), 1);
    const error = await insertEvent(store.db, event('00000000-0000-7000-8000-000000000002', 'queued'), 2).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeDefined();
    expect(isUniqueViolation(error)).toBe(true);
  });

  it('when the first of them was suppressed, then the key is still free', async () => {
    await insertEvent(store.db, event('00000000-0000-7000-8000-000000000001', 'suppressed'), 1);
    await insertEvent(store.db, event('00000000-0000-7000-8000-000000000002', 'suppressed'), 2);
    await expect(insertEvent(store.db, event('00000000-0000-7000-8000-000000000003', 'queued'), 3)).resolves.toBeUndefined();
  });

  it('when the same key is for another app, then it is another rollback', async () => {
    await insertEvent(store.db, event('00000000-0000-7000-8000-000000000001', 'queued'), 1);
    await expect(insertEvent(store.db, event('00000000-0000-7000-8000-000000000002', 'queued', 'other'), 2)).resolves.toBeUndefined();
  });

  it('when migrations run twice, then the second run changes nothing', async () => {
    await expect(store.migrate()).resolves.toBeUndefined();
  });

  it('when another error happens, then it is not taken for a unique violation', () => {
    expect(isUniqueViolation(new Error('disk I/O error'))).toBe(false);
    expect(isUniqueViolation({ code: 'SQLITE_BUSY' })).toBe(false);
  });
});
