// Statements on the path of every respondent's request, built and compiled by Kysely once: each
// run only binds its values. Building and compiling a query in Kysely costs more than SQLite
// needs to run a lookup or an update by key (a 19-column join: 66-81 us built each time against
// 18-19 us compiled once, measured with app.inject), and a busy morning runs these thousands of
// times a second.
//
// `build` receives placeholders for the values and must use each one as a single bound value
// (in where, set or values; not as a list for `in`). The compiled statement does not depend on
// the Kysely instance (every one here speaks SQLite without plugins), so it is made once and
// also runs inside transactions.

import type { Compilable, CompiledQuery, QueryResult } from 'kysely';
import type { Db } from './connection.ts';

export function prepared<Values extends Record<string, unknown>, Row>(build: (db: Db, values: Values) => Compilable<Row>): (db: Db, values: Values) => Promise<QueryResult<Row>> {
  const placeholders = new Map<unknown, keyof Values>();
  const named = new Proxy({} as Values, {
    get(_target, name) {
      const placeholder = { placeholder: String(name) };
      placeholders.set(placeholder, name as keyof Values);
      return placeholder;
    },
  });
  let compiled: CompiledQuery<Row> | undefined;
  return (db, values) => {
    compiled ??= build(db, named).compile();
    const parameters = compiled.parameters.map((p) => {
      const name = placeholders.get(p);
      return name === undefined ? p : values[name];
    });
    return db.executeQuery<Row>({ ...compiled, parameters });
  };
}
