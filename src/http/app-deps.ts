import type { Logger } from 'pino';
import type { Clock } from '../clock';
import type { Config } from '../config/config';
import type { WiringCheck } from '../github/wiring-check';
import type { Metrics } from '../metrics/metrics';
import type { FailureGuard } from './middleware/auth';
import type { Store } from '../store/database';

/** Everything the HTTP app needs; tests swap any of it. */
export interface AppDeps {
  config: Config;
  logger: Logger;
  store: Store;
  clock: Clock;
  /** Called after an event is committed, so the delivery worker need not wait for its next poll. */
  onEventStored?: () => void;
  /** Called after a health report is committed: it may verify a restored rollback. */
  onReportRecorded?: () => void;
  /** Called after a notification was written to the outbox. */
  onNotification?: () => void;
  /** Prometheus metrics shared with the workers; createApp makes its own when none is given. */
  metrics?: Metrics;
  /** The last GitHub wiring check (undefined in dry run without a token, or before the first one). */
  wiring?: {
    current(): { checkedAt: number; checks: WiringCheck[]; ok: boolean } | undefined;
    /** A rollback was stored for this repository ("owner/repo"): checked at once if it was not yet. */
    noteRepository?(repository: string): void;
  };
  /** The failed-authentication budget per client address; createApp makes one when none is given. */
  authGuard?: FailureGuard;
  /** True once SIGTERM arrived: /readyz turns 503 at once so no new traffic is sent here. */
  isStopping?: () => boolean;
  /** While the service starts (migrations): not ready, and what it waits for. Absent: ready. */
  startup?: { ready(): boolean; waitingFor(): string };
}
