/** A status page session: who signed in, until when, and when it was ended (sign-out), if it was. */
export interface UiSessionsTable {
  id: string;
  name: string;
  created_at: number;
  expires_at: number;
  ended_at: number | null;
}
