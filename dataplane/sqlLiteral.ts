// The one place values become ClickHouse SQL text. ClickHouse 18.16 has no server-side
// query parameters, so statements carry their values inline: each value is first checked
// against the strict shape of what it is (validNames.ts), then quoted here. Quoting still
// escapes, so a validation gap could not become an injection on its own.
import {
  InvalidValueError,
  assertChainName,
  assertDt,
  assertNonNegativeInteger,
  assertRootPath,
  assertSqlIdentifier,
} from './validNames.ts';

/** A single-quoted string literal; backslash and quote escaped, control characters refused. */
export function sqlString(value: string): string {
  if (typeof value !== 'string') throw new InvalidValueError(`not a string: ${String(value)}`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new InvalidValueError('control characters in a SQL string');
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

/** An unsigned integer literal. */
export function sqlUInt(kind: string, value: number): string {
  assertNonNegativeInteger(kind, value);
  return String(value);
}

export function sqlChain(chain: string): string {
  assertChainName(chain);
  return sqlString(chain);
}

export function sqlRootPath(rootPath: string): string {
  assertRootPath(rootPath);
  return sqlString(rootPath);
}

/** A non-empty list of root paths, for `IN (...)` and array literals. */
export function sqlRootPathList(rootPaths: readonly string[]): string {
  if (rootPaths.length === 0) throw new InvalidValueError('at least one root path is needed');
  return rootPaths.map(sqlRootPath).join(', ');
}

/** A Date literal (`toDate('YYYY-MM-DD')`, understood by 18.16 and current ClickHouse). */
export function sqlDate(dt: string): string {
  assertDt(dt);
  return `toDate(${sqlString(dt)})`;
}

/** A backquoted identifier (database, table). */
export function sqlIdentifier(name: string): string {
  assertSqlIdentifier(name);
  return `\`${name}\``;
}
