/**
 * A year of history for the accept path's growth target (issue 19): `events` rollbacks over the bench's
 * 500 apps (the names scripts/bench/load.lua posts to), written through the service's own repositories
 * as the accept path writes them: each rollback's Degraded report, its event and its finished delivery,
 * and a Healthy report of a new revision after every tenth (a deploy that went well). Everything lies
 * more than a day in the past, so no loop-guard window counts it. Dry-run deliveries: finished work
 * that no worker picks up again.
 */
import { v7 as uuidv7 } from 'uuid';
import { DEFAULT_POSTGRES_LIMITS, openStore } from '../../src/store/database';
import { openDelivery } from '../../src/store/deliveries.repository';
import { insertEvent } from '../../src/store/events.repository';
import { insertReport } from '../../src/store/reports.repository';

const YEAR_MS = 365 * 24 * 3_600_000;
const PER_TRANSACTION = 2000;

export interface FillOptions {
  /** Transactions in flight at once (PostgreSQL takes several; SQLite has one writer). */
  concurrency?: number;
  /** Called at most every 10 s with the events written so far. */
  progress?: (done: number) => void;
}

export async function fillHistory(databaseUrl: string, events: number, apps: number, options: FillOptions = {}): Promise<{ seconds: number }> {
  const started = Date.now();
  // A bulk fill, not a request: its chunks wait on each other's row locks of \`apps\` for longer than a
  // request may (PG_QUERY_TIMEOUT_MS), so its statements get minutes.
  const store = openStore(databaseUrl, { postgres: { ...DEFAULT_POSTGRES_LIMITS, queryTimeoutMs: 600_000, idleInTransactionTimeoutMs: 600_000, poolWaitMs: 600_000 } });
  await store.migrate();
  const first = Date.now() - YEAR_MS;
  const step = (YEAR_MS - 24 * 3_600_000) / Math.max(events, 1);
  const healthy = new Map<string, string>();
  const rev = (n: number, kind: string) => `${kind}${n.toString(16).padStart(39, '0')}`;
  const width = String(apps - 1).length;
  let done = 0;
  let saidAt = Date.now();
  const chunk = (n: number) =>
    store.transaction(async (trx) => {
      for (let i = n; i < Math.min(n + PER_TRANSACTION, events); i++) {
        const app = `bench-app-${String(i % apps).padStart(Math.max(3, width), '0')}`;
        const at = Math.floor(first + i * step);
        if (!healthy.has(app) || i % (apps * 10) < apps) {
          healthy.set(app, rev(i, 'a'));
          await insertReport(trx, { id: uuidv7(), app, revision: rev(i, 'a'), status: 'Healthy', source: 'health_report', eventId: null }, at - 1);
        }
        const id = uuidv7();
        const failed = rev(i, 'f');
        await insertReport(trx, { id: uuidv7(), app, revision: failed, status: 'Degraded', source: 'health_report', eventId: id }, at);
        const healthyRevision = healthy.get(app)!;
        await insertEvent(
          trx,
          {
            id,
            app,
            failedRevision: failed,
            healthyRevision,
            target: { owner: 'acme', repo: 'gitops' },
            eventType: 'argo-degraded',
            dispatchBody: JSON.stringify({ event_type: 'argo-degraded', client_payload: { app, failed_revision: failed, healthy_revision: healthyRevision, event_id: id } }),
            status: 'dry_run',
            requestId: null,
            targetReason: 'from ledger',
            suppressionReason: null,
          },
          at,
        );
        await openDelivery(trx, id, { state: 'dry_run', now: at, newEvent: true });
      }
    });
  const starts = Array.from({ length: Math.ceil(events / PER_TRANSACTION) }, (_, k) => k * PER_TRANSACTION);
  const lanes = Array.from({ length: Math.max(1, options.concurrency ?? 1) }, async () => {
    for (let n = starts.shift(); n !== undefined; n = starts.shift()) {
      await chunk(n);
      done += Math.min(PER_TRANSACTION, events - n);
      if (options.progress && Date.now() - saidAt >= 10_000) {
        saidAt = Date.now();
        options.progress(done);
      }
    }
  });
  await Promise.all(lanes);
  await store.close();
  return { seconds: (Date.now() - started) / 1000 };
}
