/** Every app the service has seen (a report, a rollback or a pause), one row each; never trimmed. */
export interface AppsTable {
  app: string;
  first_seen_at: number;
}
