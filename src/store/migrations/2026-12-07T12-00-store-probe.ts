import type { Kysely } from 'kysely';

// Frozen once released: change the schema with a new dated migration, never by editing this one.
/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * One row /readyz writes while the store's writes are failing: a read answers on a full or read-only
 * disk, so only a write says whether the store takes writes again; `room` holds as many bytes as the
 * largest webhook, so a disk with room for a tiny row only is not taken for one that takes writes.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('store_probe')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('room', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('store_probe').execute();
}
