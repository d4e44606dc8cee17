// Writing one batch of one root path to the lake: one parquet file per day (dt) of the batch,
// each at its deterministic path, published atomically, each reporting the blocks of its day.
// The caller writes the markers afterwards (markersForBatch → MarkerStore.writeMarkers):
// files first, marker last.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataLake } from '../lake/dataLake.ts';
import type { BlockBatch } from '../../dataplane/batches.ts';
import { checkedDays, splitRowsByDt } from '../../dataplane/dtParts.ts';
import { type DuckDbSession, duckDbIdentifier, duckDbString } from './duckDbSession.ts';
import type { DayRange, WrittenPart } from '../../dataplane/markers.ts';
import type { ParquetRow, ParquetSchema } from '../../dataplane/parquetSchema.ts';
import { writeParquet } from './parquetWriter.ts';
import { dataPath } from '../../dataplane/paths.ts';
import { InvalidValueError } from '../../dataplane/validNames.ts';

/** Which batch of which dataset is being written, and where. */
export interface BatchTarget {
  lake: DataLake;
  rootPath: string;
  chain: string;
  batch: BlockBatch;
}

export interface WriteRowPartsOptions<Row extends ParquetRow> {
  schema: ParquetSchema;
  rows: readonly Row[];
  /** The row's block timestamp in seconds: decides its day. */
  timestampOf: (row: Row) => number;
  /** The batch's days and their blocks; every day gets a file, even an empty one. */
  days: readonly DayRange[];
  /** Write through DuckDB (much faster for many rows) instead of the pure-JS writer. */
  session?: DuckDbSession;
}

/** JS rows → one parquet file per day → the lake. Returns the parts, sorted by day. */
export async function writeRowParts<Row extends ParquetRow>(
  target: BatchTarget,
  options: WriteRowPartsOptions<Row>,
): Promise<WrittenPart[]> {
  const parts = splitRowsByDt(options.rows, options.timestampOf, options.days);
  const written: WrittenPart[] = [];
  const session = options.session;
  if (session) {
    await withScratchDir(async (dir) => {
      for (const part of parts) {
        const path = dataPath(target.rootPath, target.chain, part.day.dt, target.batch.minBlock);
        const file = join(dir, `${part.day.dt}.parquet`);
        const rowCount = await session.writeRowsToParquet(options.schema, part.rows, file);
        await target.lake.writeFileFrom(path, file);
        written.push({ ...part.day, dataPath: path, rowCount });
      }
    });
    return written;
  }
  for (const part of parts) {
    const path = dataPath(target.rootPath, target.chain, part.day.dt, target.batch.minBlock);
    await target.lake.writeFile(path, writeParquet(options.schema, part.rows));
    written.push({ ...part.day, dataPath: path, rowCount: part.rows.length });
  }
  return written;
}

export interface WriteQueryPartsOptions {
  session: DuckDbSession;
  /** A DuckDB SELECT producing exactly the output columns, in order. */
  query: string;
  /** An output column of type TIMESTAMP/TIMESTAMPTZ (the block timestamp): decides the day. */
  timestampColumn: string;
  /** The batch's days and their blocks (from its input markers); every day gets a file. */
  days: readonly DayRange[];
}

/** Marks the error a day filter raises for a row on a day the batch does not have. */
const STRAY_ROWS = 'stray-rows|';

/**
 * A DuckDB query → one parquet file per day → the lake, without rows ever entering JS and
 * without holding the result: each day's file is the query's rows of that day, streamed
 * (a batch of two days runs the query twice). A row on a day outside `days` is an error (the
 * inputs and the markers disagree), and nothing is published then.
 */
export async function writeQueryParts(
  target: BatchTarget,
  options: WriteQueryPartsOptions,
): Promise<WrittenPart[]> {
  const { session } = options;
  const days = checkedDays(options.days);
  const dts = days.map((day) => day.dt);
  const timestamp = duckDbIdentifier(options.timestampColumn);
  // Days as ranges of epoch seconds (UTC by construction, whatever the session zone): a
  // comparison per row, where formatting each row's day as text cost twenty times more.
  const seconds = `epoch(${timestamp})`;
  const onDay = (dt: string) => {
    const start = Date.parse(`${dt}T00:00:00Z`) / 1000;
    return `(${seconds} >= ${start} AND ${seconds} < ${start + 86_400})`;
  };
  const dtOfRow = `CAST(DATE '1970-01-01' + CAST(floor(${seconds} / 86400) AS INTEGER) AS VARCHAR)`;
  const stray = `error(${duckDbString(`${STRAY_ROWS}rows fall on days outside the batch's ${dts.join(', ')}: `)} || ${dtOfRow})`;
  return withScratchDir(async (dir) => {
    const files: { day: DayRange; file: string; rowCount: number }[] = [];
    for (const day of days) {
      const others = dts.filter((other) => other !== day.dt).map(onDay);
      const elsewhere = others.length > 0 ? `WHEN ${others.join(' OR ')} THEN false` : '';
      const file = join(dir, `${day.dt}.parquet`);
      try {
        const rowCount = await session.copyToParquet(
          `SELECT * FROM (${options.query}) WHERE CASE WHEN ${onDay(day.dt)} THEN true ${elsewhere} ELSE ${stray} END`,
          file,
        );
        files.push({ day, file, rowCount });
      } catch (error) {
        const message = error instanceof Error ? error.message : '';
        const at = message.indexOf(STRAY_ROWS);
        if (at >= 0) throw new InvalidValueError(message.slice(at + STRAY_ROWS.length).split('\n')[0]!);
        throw error;
      }
    }
    const written: WrittenPart[] = [];
    for (const { day, file, rowCount } of files) {
      const path = dataPath(target.rootPath, target.chain, day.dt, target.batch.minBlock);
      await target.lake.writeFileFrom(path, file);
      written.push({ ...day, dataPath: path, rowCount });
    }
    return written;
  });
}

/** Runs `work` with a fresh private temp folder, removed afterwards. */
export async function withScratchDir<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'model-runner-'));
  try {
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
