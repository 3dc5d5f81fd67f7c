import type { LeasedWorkColumns } from './leased-work.table';

/**
 * One row per GitHub token: leased work whose due time is when the token may next be used
 * (GITHUB_MIN_INTERVAL_MS apart, later during a rate limit), held by whoever is using it.
 */
export interface DispatchSlotsTable extends LeasedWorkColumns {
  token_key: string;
}
