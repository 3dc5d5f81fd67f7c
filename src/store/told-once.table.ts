/**
 * What people were told about once and must never be told again (a chart-only change of a revision, an
 * app never deployed): one row per (app, kind, subject), written with the message, kept for good.
 */
export interface ToldOnceTable {
  app: string;
  kind: string;
  /** What the message was about: a revision, or the revisions joined. */
  subject: string;
  told_at: number;
}
