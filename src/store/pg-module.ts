import type PgModule from 'pg';

let loaded: typeof PgModule | undefined;

/** pg, loaded on first use: a service on SQLite never spends the ~14 MB it takes. */
export function pgModule(): typeof PgModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  loaded ??= require('pg') as typeof PgModule;
  return loaded;
}

/** pg once a PostgreSQL store was opened; undefined before (and then no pg error can exist). */
export function loadedPgModule(): typeof PgModule | undefined {
  return loaded;
}
