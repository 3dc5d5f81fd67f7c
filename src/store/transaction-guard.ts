import { AsyncLocalStorage } from 'node:async_hooks';
import type { DatabaseConnection, Dialect, Driver } from 'kysely';

/**
 * The rule every transaction's work must keep: use the `trx` it was given, never `store.db` and never a
 * transaction of its own. On SQLite's one connection either one waits for the work that waits for it, for
 * ever; on PostgreSQL it silently runs on another connection, outside the transaction. Here it fails at
 * once, with this error, on both.
 */
export class WrongHandleError extends Error {
  constructor(what: string) {
    super(`${what} inside a transaction's work: use the transaction's trx (on SQLite's one connection this would wait for itself for ever; on PostgreSQL it would run outside the transaction)`);
    this.name = 'WrongHandleError';
  }
}

const insideWork = new AsyncLocalStorage<true>();

/** Runs a transaction's work: within it, anything that asks the store for a connection of its own throws. */
export function runAsTransactionWork<T>(work: () => Promise<T>): Promise<T> {
  return insideWork.run(true, work);
}

/** Throws WrongHandleError when called from a transaction's work. */
export function refuseInsideTransactionWork(what: string): void {
  if (insideWork.getStore()) throw new WrongHandleError(what);
}

/**
 * The dialect with its driver guarded: a query on the root Kysely (store.db) asks the driver for a
 * connection, which a transaction's own queries never do (they hold theirs), so that is where the rule is
 * checked.
 */
export function guardedDialect(inner: Dialect): Dialect {
  return {
    createAdapter: () => inner.createAdapter(),
    createIntrospector: (db) => inner.createIntrospector(db),
    createQueryCompiler: () => inner.createQueryCompiler(),
    createDriver: () => guardedDriver(inner.createDriver()),
  };
}

function guardedDriver(driver: Driver): Driver {
  return new Proxy(driver, {
    get(target, property, receiver) {
      if (property === 'acquireConnection') {
        return (): Promise<DatabaseConnection> => {
          refuseInsideTransactionWork('a query on store.db');
          return target.acquireConnection();
        };
      }
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
