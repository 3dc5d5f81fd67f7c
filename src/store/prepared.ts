import { createQueryId, type CompiledQuery, type Compilable, type Kysely, type Transaction } from 'kysely';
import type { Database } from './schema';

type Db = Kysely<Database> | Transaction<Database>;

/** A parameter's value: a scalar, or a list (one placeholder per element, as Kysely's `in` writes it: one shape per length). */
type Value = string | number | null | readonly (string | number)[];

/** Where each placeholder of the compiled text takes its value from: a parameter (an element of it), or a constant of the query. */
type Slot = { name: string; index?: number } | { constant: unknown };

interface Shape {
  compiled: CompiledQuery;
  slots: Slot[];
}

const MARK = '\u0000prepared-parameter:';

/**
 * A query built with Kysely once per dialect (and per list length), then run with new values: no query
 * building per call. `build` writes the query as usual, with each of `params` where a value goes; it gets
 * stand-ins on its one run, so it must use them only as values (bound parameters), never read or
 * branch on them: a stand-in it did not bind is an error at that first run. The accept transaction runs
 * a dozen statements per webhook, and building them cost about 130 µs of its 0.86 ms on the HTTP thread
 * (docs/performance.md).
 */
export function prepared<P extends Record<string, Value>, R>(build: (db: Db, params: P) => Compilable<R>): (db: Db, params: P) => Promise<R[]> {
  // Per dialect: the compiled text differs (placeholders, quoting), and every transaction of one store
  // shares its Kysely instance's adapter.
  const shapes = new WeakMap<object, Map<string, Shape>>();

  function shapeFor(db: Db, params: P): Shape {
    const dialectKey = db.getExecutor().adapter;
    let byLengths = shapes.get(dialectKey);
    if (!byLengths) shapes.set(dialectKey, (byLengths = new Map<string, Shape>()));
    let lengths = '';
    for (const name in params) {
      const value = params[name];
      if (Array.isArray(value)) lengths += `${name}#${value.length},`;
    }
    let shape = byLengths.get(lengths);
    if (shape) return shape;
    const stand: Record<string, Value> = {};
    for (const [name, value] of Object.entries(params)) stand[name] = Array.isArray(value) ? value.map((_, i) => `${MARK}${name}#${i}`) : `${MARK}${name}`;
    const compiled = build(db, stand as P).compile();
    const unbound = new Set(Object.entries(stand).flatMap(([, v]) => (Array.isArray(v) ? (v as string[]) : [v as string])));
    const slots = compiled.parameters.map((value): Slot => {
      if (typeof value !== 'string' || !value.startsWith(MARK)) return { constant: value };
      unbound.delete(value);
      const [name, index] = value.slice(MARK.length).split('#') as [string, string | undefined];
      return index === undefined ? { name } : { name, index: Number(index) };
    });
    if (slots.some((slot) => 'constant' in slot && slot.constant === undefined)) throw new Error(`prepared query: a value of the query is undefined: ${compiled.sql}`);
    if (unbound.size > 0 || compiled.sql.includes(MARK)) {
      const names = [...unbound].map((v) => v.slice(MARK.length).split('#')[0]);
      throw new Error(`prepared query: ${[...new Set(names)].join(', ')} not bound as a value (a stand-in was read, inlined or dropped): ${compiled.sql}`);
    }
    shape = { compiled, slots };
    byLengths.set(lengths, shape);
    return shape;
  }

  return async (db, params) => {
    const { compiled, slots } = shapeFor(db, params);
    const parameters = slots.map((slot) => {
      if ('constant' in slot) return slot.constant;
      const value = params[slot.name];
      if (value === undefined) throw new Error(`prepared query: no value for ${slot.name}`);
      return slot.index === undefined ? value : (value as readonly unknown[])[slot.index];
    });
    const result = await db.executeQuery<R>({ query: compiled.query, sql: compiled.sql, parameters, queryId: createQueryId() });
    return result.rows;
  };
}
