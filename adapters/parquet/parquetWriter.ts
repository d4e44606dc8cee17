// The pure-JS parquet writer (hyparquet-writer): rows in memory → parquet bytes, no native
// code and no temp files. Right for small and medium outputs (blocks, balances, tests);
// measured at ~40–80k rows/s (docs/data-plane.md), so large row volumes go through
// DuckDB instead (duckDbSession.ts), where the rows never pass through JS at all.
import { type ColumnSource, parquetWriteBuffer } from 'hyparquet-writer';
import type { SchemaElement } from 'hyparquet';
import {
  type ParquetColumn,
  type ParquetColumnType,
  type ParquetRow,
  type ParquetSchema,
  canonicalValue,
  validateSchema,
} from '../../dataplane/parquetSchema.ts';

type ElementType = Omit<SchemaElement, 'name' | 'repetition_type'>;

const ELEMENTS: Record<ParquetColumnType, ElementType> = {
  string: { type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } },
  decimal_string: { type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } },
  int32: { type: 'INT32', converted_type: 'INT_32' },
  int64: { type: 'INT64', converted_type: 'INT_64' },
  // Converted type only, as DuckDB writes it: hyparquet-writer 0.17 encodes the INTEGER
  // logical type's bitWidth (a thrift byte) in a way readers reject as invalid data.
  uint64: { type: 'INT64', converted_type: 'UINT_64' },
  float64: { type: 'DOUBLE' },
  boolean: { type: 'BOOLEAN' },
  timestamp: {
    type: 'INT64',
    converted_type: 'TIMESTAMP_MICROS',
    logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' },
  },
  date: { type: 'INT32', converted_type: 'DATE', logical_type: { type: 'DATE' } },
};

const DAY_MS = 86_400_000;

/** The stored (physical) form of a canonical value. */
function physicalValue(column: ParquetColumn, value: unknown): unknown {
  if (value === null) return null;
  switch (column.type) {
    case 'timestamp':
      return BigInt((value as Date).getTime()) * 1000n;
    case 'date':
      return Date.parse(`${value as string}T00:00:00Z`) / DAY_MS;
    default:
      return value;
  }
}

export interface WriteParquetOptions {
  /** Rows per row group (default: all rows in one group up to 1M). */
  rowGroupSize?: number;
}

/** Writes rows as one standard parquet file (SNAPPY) and returns its bytes. */
export function writeParquet(
  schema: ParquetSchema,
  rows: readonly ParquetRow[],
  options: WriteParquetOptions = {},
): Uint8Array {
  validateSchema(schema);
  const columnData: ColumnSource[] = schema.map((column) => {
    const data = new Array<unknown>(rows.length);
    for (let index = 0; index < rows.length; index++) {
      data[index] = physicalValue(column, canonicalValue(column, rows[index]![column.name]));
    }
    return { name: column.name, data: data as ColumnSource['data'], nullable: column.nullable ?? false };
  });
  const parquetSchema: SchemaElement[] = [
    { name: 'root', num_children: schema.length },
    ...schema.map((column): SchemaElement => ({
      name: column.name,
      repetition_type: column.nullable ? 'OPTIONAL' : 'REQUIRED',
      ...ELEMENTS[column.type],
    })),
  ];
  const buffer = parquetWriteBuffer({
    columnData,
    schema: parquetSchema,
    codec: 'SNAPPY',
    rowGroupSize: options.rowGroupSize ?? 1_000_000,
  });
  return new Uint8Array(buffer);
}
