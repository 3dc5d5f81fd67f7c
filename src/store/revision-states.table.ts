/**
 * One row per (app, revision) ever reported: the few reports of it that every policy decision needs
 * (src/domain/revision-summary.ts), kept up to date in the transaction that stores each report.
 */
export interface RevisionStatesTable {
  app: string;
  revision: string;
  /** Length of `revision`: an app with ids of more than one length (an abbreviated id) is read whole. */
  id_length: number;
  /** JSON: the revision's summary, newest first (RevisionReport[]). */
  reports: string;
  /** When it was last reported Healthy, if ever: the ledger, newest first, from an index. */
  newest_healthy_at: number | null;
  /** 1 when the revision is known failed (isKnownFailed of its summary), else 0: counted per app from an index. */
  known_failed: number;
}
