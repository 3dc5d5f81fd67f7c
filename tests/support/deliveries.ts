import { sql } from 'kysely';
import { summarizeDelivery } from '../../src/store/events.repository';
import { claimWork, completeWork, leaseOf } from '../../src/store/leased-work';
import type { Harness } from './harness';

/**
 * Ends an event's open delivery as failed with `error`, the way a worker does (claim with a lease,
 * complete with its version, refresh the event's summary): for suites that run without the worker.
 */
export async function failDelivery(h: Harness, eventId: string, error: string): Promise<void> {
  await h.store.transaction(async (trx) => {
    const now = h.clock.now();
    const [row] = await claimWork(trx, h.store.dialect, 'deliveries', { owner: 'test-worker', leaseMs: 60_000, now, where: sql<boolean>`event_id = ${eventId}` });
    if (!row) throw new Error(`event ${eventId} has no due delivery`);
    const failed = await completeWork(trx, leaseOf('deliveries', row), { state: 'failed', last_error: error, finished_at: now, updated_at: now, due_at: null });
    await summarizeDelivery(trx, h.store.dialect, failed, now);
  });
}
