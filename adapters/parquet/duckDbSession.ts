// DuckDB, in process: the heavy parquet path. Models that transform parquet into parquet
// (read ingestion files, filter and decode in SQL, write output files) run entirely in
// here, so rows never cross into JavaScript; that is what makes hundreds of thousands of
// rows per second per core possible (docs/data-plane.md has the figures). Rows that do
// start in JS (ingestion) are bulk-loaded through the appender, column-wise in chunks,
// and written with COPY.
//
// DuckDB reads and writes local files only (no network extensions here), so callers read
// lake objects through DataLake.localFileOf / copyToLocalFile and write to a scratch file
// that DataLake.writeFileFrom then publishes atomically.
import {
  type DuckDBConnection,
  DuckDBDataChunk,
  DuckDBDateValue,
  DuckDBInstance,
  DuckDBTimestampTZValue,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api';
import { isAbsolute } from 'node:path';
import {
  type ParquetColumn,
  type ParquetRow,
  type ParquetSchema,
  canonicalValue,
  duckDbColumnsSql,
} from '../../dataplane/parquetSchema.ts';
import { InvalidValueError, assertSqlIdentifier } from '../../dataplane/validNames.ts';

export interface DuckDbSessionOptions {
  /** Worker threads (default: DuckDB's own, one per core). */
  threads?: number;
  /** e.g. '512MB': DuckDB spills to `tempDirectory` beyond it. */
  memoryLimit?: string;
  tempDirectory?: string;
}

/**
 * Rows per row group of the parquet files DuckDB writes. Its writer holds a whole row group
 * in memory, uncompressed and whatever the memory limit, before writing it: about 1.2 KB a row
 * for ingest's transactions and logs, so 150 MB at DuckDB's default of 122,880 rows. A quarter
 * of that bounds it to about 40 MB, for files at most 0.5% larger (docs/benchmarks.md).
 */
export const PARQUET_ROW_GROUP_ROWS = 30_720;

/** A DuckDB string literal: single quotes doubled, NUL refused. */
export function duckDbString(value: string): string {
  if (typeof value !== 'string' || value.includes('\0')) throw new InvalidValueError('invalid DuckDB string');
  return `'${value.replaceAll("'", "''")}'`;
}

/** A quoted DuckDB identifier (table, column) after a strict check. */
export function duckDbIdentifier(name: string): string {
  assertSqlIdentifier(name);
  return `"${name}"`;
}

function assertLocalFile(file: string): void {
  if (typeof file !== 'string' || !isAbsolute(file) || file.includes('\0')) {
    throw new InvalidValueError(`DuckDB needs an absolute local file path, not ${JSON.stringify(file)}`);
  }
}

/** `read_parquet([...])` over local files, for FROM clauses. */
export function readParquetSql(files: readonly string[]): string {
  if (files.length === 0) throw new InvalidValueError('read_parquet needs at least one file');
  files.forEach(assertLocalFile);
  return `read_parquet([${files.map(duckDbString).join(', ')}])`;
}

const CHUNK_ROWS = 2048;
const DAY_MS = 86_400_000;

function duckDbValue(column: ParquetColumn, value: unknown): DuckDBValue {
  if (value === null) return null;
  switch (column.type) {
    case 'timestamp':
      return new DuckDBTimestampTZValue(BigInt((value as Date).getTime()) * 1000n);
    case 'date':
      return new DuckDBDateValue(Date.parse(`${value as string}T00:00:00Z`) / DAY_MS);
    default:
      return value as DuckDBValue;
  }
}

function instanceConfig(options: DuckDbSessionOptions): Record<string, string> {
  const config: Record<string, string> = {};
  if (options.threads !== undefined) {
    if (!Number.isInteger(options.threads) || options.threads < 1)
      throw new InvalidValueError('threads must be >= 1');
    config.threads = String(options.threads);
  }
  if (options.memoryLimit !== undefined) {
    if (!/^\d+(\.\d+)?\s?[KMGT]i?B$/.test(options.memoryLimit))
      throw new InvalidValueError('invalid memoryLimit');
    config.memory_limit = options.memoryLimit;
  }
  if (options.tempDirectory !== undefined) {
    assertLocalFile(options.tempDirectory);
    config.temp_directory = options.tempDirectory;
  }
  return config;
}

/** Process-wide databases for `DuckDbSession.shared`, by settings. */
const sharedInstances = new Map<string, Promise<DuckDBInstance>>();

export class DuckDbSession {
  private readonly instance: DuckDBInstance;
  private readonly connection: DuckDBConnection;
  private readonly ownsInstance: boolean;

  private constructor(instance: DuckDBInstance, connection: DuckDBConnection, ownsInstance: boolean) {
    this.instance = instance;
    this.connection = connection;
    this.ownsInstance = ownsInstance;
  }

  private static async connect(instance: DuckDBInstance, ownsInstance: boolean): Promise<DuckDbSession> {
    const connection = await instance.connect();
    // Days are UTC days everywhere in the data plane; never the host's zone.
    await connection.run("SET TimeZone = 'UTC'");
    return new DuckDbSession(instance, connection, ownsInstance);
  }

  /** An in-memory database of its own; close it when done. */
  static async open(options: DuckDbSessionOptions = {}): Promise<DuckDbSession> {
    return DuckDbSession.connect(await DuckDBInstance.create(':memory:', instanceConfig(options)), true);
  }

  /**
   * A connection of its own to a database shared by every session of the process with the same
   * settings: temp tables and settings are the connection's, so sessions do not see each
   * other's, while the database (tens of milliseconds to create, per batch) is made once.
   * The memory limit is the database's, shared by concurrent sessions. Close it when done.
   */
  static async shared(options: DuckDbSessionOptions = {}): Promise<DuckDbSession> {
    const config = instanceConfig(options);
    const key = JSON.stringify(config);
    let instance = sharedInstances.get(key);
    if (!instance) {
      instance = DuckDBInstance.create(':memory:', config);
      sharedInstances.set(key, instance);
      instance.catch(() => sharedInstances.delete(key));
    }
    return DuckDbSession.connect(await instance, false);
  }

  /** Runs statements; returns the rows changed (for COPY: the rows written). */
  async run(sql: string): Promise<number> {
    const result = await this.connection.run(sql);
    return Number(result.rowsChanged);
  }

  /** Runs a query and returns its rows as objects (BIGINT as bigint, timestamps as Date). */
  async query(sql: string): Promise<Record<string, unknown>[]> {
    const reader = await this.connection.runAndReadAll(sql);
    return reader.getRowObjectsJS() as Record<string, unknown>[];
  }

  /** Creates (or replaces) a temp table with the schema's columns. */
  async createTable(table: string, schema: ParquetSchema): Promise<void> {
    await this.connection.run(
      `CREATE OR REPLACE TEMP TABLE ${duckDbIdentifier(table)} (${duckDbColumnsSql(schema)})`,
    );
  }

  /** Appends JS rows to a table created with the same schema, in vector-sized chunks. */
  async appendRows(table: string, schema: ParquetSchema, rows: readonly ParquetRow[]): Promise<void> {
    assertSqlIdentifier(table);
    const appender = await this.connection.createAppender(table);
    try {
      const types: DuckDBType[] = schema.map((_, index) => appender.columnType(index));
      for (let start = 0; start < rows.length; start += CHUNK_ROWS) {
        const count = Math.min(CHUNK_ROWS, rows.length - start);
        const columns = schema.map((column) => {
          const values = new Array<DuckDBValue>(count);
          for (let index = 0; index < count; index++) {
            values[index] = duckDbValue(column, canonicalValue(column, rows[start + index]![column.name]));
          }
          return values;
        });
        const chunk = DuckDBDataChunk.create(types, count);
        chunk.setColumns(columns);
        appender.appendDataChunk(chunk);
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
  }

  /**
   * Writes the result of a SELECT (or a whole table, given its name) to a local parquet
   * file (SNAPPY, row groups of PARQUET_ROW_GROUP_ROWS); returns the number of rows written.
   */
  async copyToParquet(source: string, localFile: string): Promise<number> {
    assertLocalFile(localFile);
    const from = /^[A-Za-z_][A-Za-z0-9_]*$/.test(source) ? duckDbIdentifier(source) : `(${source})`;
    return this.run(
      `COPY ${from} TO ${duckDbString(localFile)} (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE ${PARQUET_ROW_GROUP_ROWS})`,
    );
  }

  /** JS rows → a local parquet file, through a scratch table. Returns the rows written. */
  async writeRowsToParquet(
    schema: ParquetSchema,
    rows: readonly ParquetRow[],
    localFile: string,
  ): Promise<number> {
    const table = `rows_${Math.random().toString(36).slice(2, 10)}`;
    await this.createTable(table, schema);
    try {
      await this.appendRows(table, schema, rows);
      return await this.copyToParquet(table, localFile);
    } finally {
      await this.connection.run(`DROP TABLE IF EXISTS ${duckDbIdentifier(table)}`);
    }
  }

  close(): void {
    this.connection.closeSync();
    if (this.ownsInstance) this.instance.closeSync();
  }
}
