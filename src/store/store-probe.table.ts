/** One row, written by /readyz while writes fail (src/store/database.ts, probeWrite). */
export interface StoreProbeTable {
  id: number;
  at: number;
  /** As many bytes as the largest webhook body; varied each time so no page is left as it was. */
  room: string;
}
