export interface AppPausesTable {
  app: string;
  reason: string;
  paused_by: string;
  paused_at: number;
}
