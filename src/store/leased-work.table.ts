/**
 * The columns every table of leased work has (see leased-work.ts): when the item is next due (null: no
 * work left), who holds it and until when (the database's clock), and a version every claim, renewal
 * and completion moves on, so a holder whose lease was taken over cannot complete.
 */
export interface LeasedWorkColumns {
  due_at: number | null;
  lease_owner: string | null;
  lease_expires_at: number | null;
  version: number;
}
