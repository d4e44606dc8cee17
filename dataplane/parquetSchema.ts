// Output schemas as plain data: column names and logical types, no library types. Both
// parquet writers (the pure-JS one for small outputs, DuckDB for the heavy path) read
// the same schema and write the same physical parquet types, so a dataset's files look
// alike whichever writer made them.
//
//   type            JS value in a row                         parquet (DuckDB type)
//   string          string                                     BYTE_ARRAY UTF8 (VARCHAR)
//   decimal_string  string of digits, e.g. a uint256 amount    BYTE_ARRAY UTF8 (VARCHAR)
//   int32           number                                     INT32 (INTEGER)
//   int64           bigint, or a safe-integer number           INT64 (BIGINT)
//   uint64          bigint, or a safe-integer number (>= 0)    INT64 UINT_64 (UBIGINT)
//   float64         number                                     DOUBLE (DOUBLE)
//   boolean         boolean                                    BOOLEAN (BOOLEAN)
//   timestamp       Date, or a number of seconds since epoch   INT64 TIMESTAMP micros UTC (TIMESTAMPTZ)
//   date            'YYYY-MM-DD'                               INT32 DATE (DATE)
//
// A column is required unless `nullable: true`; a missing value in a required column is
// an error, never a silent null.
import { InvalidValueError, assertDt } from './validNames.ts';

export type ParquetColumnType =
  'string' | 'decimal_string' | 'int32' | 'int64' | 'uint64' | 'float64' | 'boolean' | 'timestamp' | 'date';

export interface ParquetColumn {
  name: string;
  type: ParquetColumnType;
  nullable?: boolean;
}

export type ParquetSchema = readonly ParquetColumn[];

export type ParquetValue = string | number | bigint | boolean | Date | null | undefined;

export type ParquetRow = Readonly<Record<string, ParquetValue>>;

export const COLUMN_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

const DUCKDB_TYPES: Record<ParquetColumnType, string> = {
  string: 'VARCHAR',
  decimal_string: 'VARCHAR',
  int32: 'INTEGER',
  int64: 'BIGINT',
  uint64: 'UBIGINT',
  float64: 'DOUBLE',
  boolean: 'BOOLEAN',
  timestamp: 'TIMESTAMPTZ',
  date: 'DATE',
};

export function validateSchema(schema: ParquetSchema): void {
  if (schema.length === 0) throw new InvalidValueError('a schema needs at least one column');
  const names = new Set<string>();
  for (const column of schema) {
    if (!COLUMN_NAME.test(column.name)) {
      throw new InvalidValueError(
        `invalid column name ${JSON.stringify(column.name)}: must match ${COLUMN_NAME.source}`,
      );
    }
    if (names.has(column.name)) throw new InvalidValueError(`duplicate column ${column.name}`);
    names.add(column.name);
    if (!(column.type in DUCKDB_TYPES))
      throw new InvalidValueError(`column ${column.name}: unknown type ${column.type}`);
  }
}

/** The DuckDB SQL type a column is stored as. */
export function duckDbTypeOf(type: ParquetColumnType): string {
  return DUCKDB_TYPES[type];
}

/** `CREATE TABLE` column list for DuckDB, e.g. `"block_number" UBIGINT NOT NULL, ...`. */
export function duckDbColumnsSql(schema: ParquetSchema): string {
  validateSchema(schema);
  return schema
    .map((column) => `"${column.name}" ${duckDbTypeOf(column.type)}${column.nullable ? '' : ' NOT NULL'}`)
    .join(', ');
}

const INTEGER_STRING = /^-?\d+$/;

function fail(column: ParquetColumn, value: unknown, why: string): never {
  throw new InvalidValueError(`column ${column.name} (${column.type}): ${why}, got ${String(value)}`);
}

/**
 * Checks one value against its column and returns it in its canonical JS form (bigint
 * for 64-bit integers, Date for timestamps), or null. Both writers call this, so both
 * refuse the same bad rows with the same message.
 */
export function canonicalValue(column: ParquetColumn, value: ParquetValue): ParquetValue {
  if (value === null || value === undefined) {
    if (column.nullable) return null;
    fail(column, value, 'a value is required');
  }
  switch (column.type) {
    case 'string':
      if (typeof value !== 'string') fail(column, value, 'expected a string');
      return value;
    case 'decimal_string':
      if (typeof value !== 'string' || !INTEGER_STRING.test(value))
        fail(column, value, 'expected a decimal integer string');
      return value;
    case 'int32':
      if (
        typeof value !== 'number' ||
        !Number.isInteger(value) ||
        value < -0x8000_0000 ||
        value > 0x7fff_ffff
      ) {
        fail(column, value, 'expected a 32-bit integer');
      }
      return value;
    case 'int64':
    case 'uint64': {
      let big: bigint;
      if (typeof value === 'bigint') big = value;
      else if (typeof value === 'number' && Number.isSafeInteger(value)) big = BigInt(value);
      else fail(column, value, 'expected a bigint or a safe integer');
      const [min, max] = column.type === 'int64' ? [-(2n ** 63n), 2n ** 63n - 1n] : [0n, 2n ** 64n - 1n];
      if (big < min || big > max) fail(column, value, 'out of range');
      return big;
    }
    case 'float64':
      if (typeof value !== 'number') fail(column, value, 'expected a number');
      return value;
    case 'boolean':
      if (typeof value !== 'boolean') fail(column, value, 'expected a boolean');
      return value;
    case 'timestamp': {
      const date = typeof value === 'number' ? new Date(value * 1000) : value;
      if (!(date instanceof Date) || Number.isNaN(date.getTime()))
        fail(column, value, 'expected a Date or seconds');
      return date;
    }
    case 'date':
      if (typeof value !== 'string') fail(column, value, "expected 'YYYY-MM-DD'");
      assertDt(value);
      return value;
  }
}
