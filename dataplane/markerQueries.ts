// The marker SQL, as pure builders: text in, text out, every value validated and quoted by
// sqlLiteral.ts. The same statements run on ClickHouse 18.16 (the stack's server) and on a
// current ClickHouse, so they keep to what both understand: no window functions, no
// LEFT ANTI JOIN (anti-joins are `NOT IN` on a tuple), no query parameters, no DateTime64;
// DateTime values travel as 'YYYY-MM-DD hh:mm:ss' (UTC) and 64-bit integers come back as
// JSON strings (see MARKER_QUERY_SETTINGS).
//
// Deduplication: markers are append-only, so every query first keeps the latest row per
// data path (argMax by updated_at), then groups those parts into batches by the batch's first
// block (from the file name) and applies the one completeness rule (batchCompleteness.ts).
import type { BatchSizeDelimiter, BlockRange } from './batches.ts';
import { completeBatchHavingSql } from './batchCompleteness.ts';
import {
  type CompleteBatch,
  type CoverageQuery,
  type DayRange,
  type DtCoverageRow,
  type Marker,
  type MarkersTable,
  type NewMarker,
  type PendingBatch,
  type PendingBatchesQuery,
  dtRange,
} from './markers.ts';
import { parseDataPath } from './paths.ts';
import { sqlChain, sqlDate, sqlIdentifier, sqlRootPathList, sqlUInt } from './sqlLiteral.ts';
import {
  InvalidValueError,
  assertChainName,
  assertDt,
  assertNonNegativeInteger,
  assertProcessName,
  assertRootPath,
} from './validNames.ts';

/** Settings every marker query sends: 64-bit integers as strings on every server version. */
export const MARKER_QUERY_SETTINGS = { output_format_json_quote_64bit_integers: 1 } as const;

/** What the SQL needs to know of a chain: its name and where its batches end. */
export interface MarkerChain {
  name: string;
  batchSizes: readonly BatchSizeDelimiter[];
}

/**
 * How far around a coverage query's days parts are read, so a batch that starts before the
 * first day, or ends after the last, is still seen whole (batches span a few days at most).
 */
const COVERAGE_MARGIN_DAYS = 31;

function tableRef(table: MarkersTable): string {
  return `${sqlIdentifier(table.database)}.${sqlIdentifier(table.table)}`;
}

export function createDatabaseSql(table: MarkersTable): string {
  return `CREATE DATABASE IF NOT EXISTS ${sqlIdentifier(table.database)}`;
}

/**
 * The marker table. ReplacingMergeTree(updated_at) lets background merges drop superseded
 * rows, but merges are eventual, so queries never rely on them (they dedupe with argMax).
 * The sort key leads with what every hot query filters on (chain, root path, blocks);
 * day-range queries prune by the monthly partition instead.
 */
export function createMarkersTableSql(table: MarkersTable): string {
  return `CREATE TABLE IF NOT EXISTS ${tableRef(table)} (
  chain String,
  dt Date,
  root_path String,
  data_path String,
  min_block UInt64,
  max_block UInt64,
  row_count UInt64,
  num_parts UInt32,
  process_name String,
  writer_name String,
  updated_at DateTime('UTC')
) ENGINE = ReplacingMergeTree(updated_at)
PARTITION BY toYYYYMM(dt)
ORDER BY (chain, root_path, min_block, data_path)`;
}

/** 'YYYY-MM-DD hh:mm:ss' in UTC, the DateTime text both server versions parse. */
export function clickhouseDateTime(date: Date): string {
  if (!(date instanceof Date) || Number.isNaN(date.getTime()))
    throw new InvalidValueError('invalid updatedAt');
  return date.toISOString().slice(0, 19).replace('T', ' ');
}

/** The JSONEachRow body of a marker insert, every field validated. */
export function markerInsertRow(marker: NewMarker, updatedAt: Date): Record<string, string | number> {
  assertChainName(marker.chain);
  assertDt(marker.dt);
  assertRootPath(marker.rootPath);
  const parsed = parseDataPath(marker.dataPath);
  if (parsed.rootPath !== marker.rootPath || parsed.chain !== marker.chain || parsed.dt !== marker.dt) {
    throw new InvalidValueError(`data path ${marker.dataPath} does not match the marker's fields`);
  }
  assertNonNegativeInteger('minBlock', marker.minBlock);
  assertNonNegativeInteger('maxBlock', marker.maxBlock);
  if (marker.maxBlock <= marker.minBlock) {
    throw new InvalidValueError(`marker block range ${marker.minBlock}-${marker.maxBlock} is empty`);
  }
  if (marker.minBlock < parsed.batchStart) {
    throw new InvalidValueError(
      `marker block range starts at ${marker.minBlock}, before its batch's first block ${parsed.batchStart}`,
    );
  }
  assertNonNegativeInteger('rowCount', marker.rowCount);
  assertNonNegativeInteger('numParts', marker.numParts);
  if (marker.numParts < 1 || marker.numParts > 0xffff_ffff)
    throw new InvalidValueError('numParts out of range');
  assertProcessName('process name', marker.processName);
  assertProcessName('writer name', marker.writerName);
  return {
    chain: marker.chain,
    dt: marker.dt,
    root_path: marker.rootPath,
    data_path: marker.dataPath,
    // Strings: 18.16 and current servers both parse quoted 64-bit integers in JSONEachRow.
    min_block: String(marker.minBlock),
    max_block: String(marker.maxBlock),
    row_count: String(marker.rowCount),
    num_parts: marker.numParts,
    process_name: marker.processName,
    writer_name: marker.writerName,
    updated_at: clickhouseDateTime(marker.updatedAt ?? updatedAt),
  };
}

interface PartsFilter {
  chain: MarkerChain;
  rootPaths: readonly string[];
  /** Only batches whose first block is in this range. */
  range?: BlockRange;
  /** Only batches whose first block is in one of these ranges (overrides `range`). */
  ranges?: readonly BlockRange[];
  fromDt?: string;
  toDt?: string;
}

function largestBatchSize(chain: MarkerChain): number {
  return Math.max(...chain.batchSizes.map((delimiter) => delimiter.batchSize));
}

/** Any of the conditions, as one term to AND with others: `((a) OR (b))`. */
function anyOf(conditions: readonly string[]): string {
  return `(${conditions.map((condition) => `(${condition})`).join(' OR ')})`;
}

/**
 * The latest marker per data path: one row per file, with the `part_` columns of its newest
 * marker and the batch it belongs to (`batch_start`, the first block in its file name).
 * Aliases never reuse a column name, which old ClickHouse would resolve to the aggregate and
 * reject as an aggregate inside an aggregate.
 */
function latestPartsSql(table: MarkersTable, filter: PartsFilter): string {
  const where = [
    `chain = ${sqlChain(filter.chain.name)}`,
    `root_path IN (${sqlRootPathList(filter.rootPaths)})`,
  ];
  const ranges = filter.ranges ?? (filter.range ? [filter.range] : []);
  if (ranges.length > 0) {
    // A part starts inside its batch, so the parts of batches starting in a range start
    // before the range's end plus one batch; the exact cut is on batch_start below.
    const largest = largestBatchSize(filter.chain);
    where.push(
      anyOf(
        ranges.map(
          (range) =>
            `min_block >= ${sqlUInt('range minBlock', range.minBlock)} AND min_block < ${sqlUInt('range end', range.maxBlock + largest)}`,
        ),
      ),
    );
  }
  if (filter.fromDt) where.push(`dt >= ${sqlDate(filter.fromDt)}`);
  if (filter.toDt) where.push(`dt <= ${sqlDate(filter.toDt)}`);
  const batchStart = `toUInt64(extract(data_path, '([0-9]+)[.]parquet$'))`;
  const rangeCut =
    ranges.length > 0
      ? `\nWHERE ${anyOf(ranges.map((range) => `batch_start >= ${sqlUInt('range minBlock', range.minBlock)} AND batch_start < ${sqlUInt('range maxBlock', range.maxBlock)}`))}`
      : '';
  return `SELECT * FROM (
  SELECT
    root_path,
    data_path,
    ${batchStart} AS batch_start,
    argMax(dt, updated_at) AS part_dt,
    argMax(min_block, updated_at) AS part_min_block,
    argMax(max_block, updated_at) AS part_max_block,
    argMax(row_count, updated_at) AS part_row_count,
    argMax(num_parts, updated_at) AS part_num_parts,
    argMax(process_name, updated_at) AS part_process_name,
    argMax(writer_name, updated_at) AS part_writer_name,
    max(updated_at) AS part_updated_at
  FROM ${tableRef(table)}
  WHERE ${where.join(' AND ')}
  GROUP BY root_path, data_path
)${rangeCut}`;
}

/** Complete batches (batchCompleteness.ts): one row per (root path, batch). */
function completeBatchesInnerSql(table: MarkersTable, filter: PartsFilter): string {
  return `SELECT
    root_path,
    batch_start,
    max(part_max_block) AS batch_end,
    groupArray(toString(part_dt)) AS batch_dts,
    sum(part_row_count) AS batch_row_count
  FROM (${latestPartsSql(table, filter)})
  GROUP BY root_path, batch_start
  HAVING ${completeBatchHavingSql(filter.chain.batchSizes)}`;
}

function partColumns(): string {
  return `root_path, data_path, toString(part_dt) AS dt, part_min_block AS min_block,
  part_max_block AS max_block, part_row_count AS row_count, part_num_parts AS num_parts,
  part_process_name AS process_name, part_writer_name AS writer_name,
  toString(part_updated_at) AS updated_at`;
}

function oneBatch(minBlock: number): BlockRange {
  return { minBlock, maxBlock: minBlock + 1 };
}

/** One batch's latest markers (one per data path), by day, complete or not. */
export function batchMarkersSql(
  table: MarkersTable,
  chain: MarkerChain,
  rootPath: string,
  minBlock: number,
): string {
  return `SELECT ${partColumns()}
FROM (${latestPartsSql(table, { chain, rootPaths: [rootPath], range: oneBatch(minBlock) })})
ORDER BY dt, data_path`;
}

/** One batch's latest markers, by day, only when they commit the batch whole. */
export function completeBatchMarkersSql(
  table: MarkersTable,
  chain: MarkerChain,
  rootPath: string,
  minBlock: number,
): string {
  const filter = { chain, rootPaths: [rootPath], range: oneBatch(minBlock) };
  return `SELECT ${partColumns()}
FROM (${latestPartsSql(table, filter)})
WHERE batch_start IN (SELECT batch_start FROM (${completeBatchesInnerSql(table, filter)}))
ORDER BY dt, data_path`;
}

/** Complete batches of the given root paths, by block then root path. */
export function completeBatchesSql(
  table: MarkersTable,
  chain: MarkerChain,
  rootPaths: readonly string[],
  range?: BlockRange,
): string {
  return `SELECT
  root_path, batch_start AS min_block, batch_end AS max_block, batch_dts AS dts, batch_row_count AS row_count
FROM (${completeBatchesInnerSql(table, { chain, rootPaths, range })})
ORDER BY min_block, root_path`;
}

/**
 * First blocks of the batches complete in every one of the root paths, as one sorted array: the
 * compact read of a window (a schedule's, a run's), which holds no per-batch detail.
 */
export function batchesCompleteInAllSql(
  table: MarkersTable,
  chain: MarkerChain,
  rootPaths: readonly string[],
  ranges?: readonly BlockRange[],
): string {
  const rootPathCount = new Set(rootPaths).size;
  const completeBatches = completeBatchesInnerSql(table, { chain, rootPaths, ranges });
  // With one root path its complete batches are the answer: no grouping by batch again.
  const completeInAll =
    rootPathCount === 1
      ? completeBatches
      : `SELECT batch_start
  FROM (${completeBatches})
  GROUP BY batch_start
  HAVING count() = ${sqlUInt('root path count', rootPathCount)}`;
  return `SELECT arraySort(groupArray(batch_start)) AS batch_starts
FROM (${completeInAll})`;
}

/** The root paths with markers on a chain, sorted. */
export function rootPathsSql(table: MarkersTable, chain: string): string {
  return `SELECT DISTINCT root_path FROM ${tableRef(table)} WHERE chain = ${sqlChain(chain)} ORDER BY root_path`;
}

export interface PendingBatchesSqlQuery extends Omit<PendingBatchesQuery, 'chain'> {
  chain: MarkerChain;
}

/**
 * Pending work: batches complete in every input root path, crossed with the output root
 * paths, minus the (output, batch) pairs already complete. The anti-join is a tuple
 * `NOT IN`, which both server versions run.
 */
export function pendingBatchesSql(table: MarkersTable, query: PendingBatchesSqlQuery): string {
  const inputs = [...new Set(query.inputRootPaths)];
  const outputs = [...new Set(query.outputRootPaths)];
  const limit = query.limit === undefined ? '' : `\nLIMIT ${sqlUInt('limit', query.limit)}`;
  return `SELECT root_path, min_block, ready_max_block AS max_block
FROM (
  SELECT arrayJoin([${sqlRootPathList(outputs)}]) AS root_path, min_block, ready_max_block
  FROM (
    SELECT batch_start AS min_block, max(batch_end) AS ready_max_block
    FROM (${completeBatchesInnerSql(table, { chain: query.chain, rootPaths: inputs, range: query.range })})
    GROUP BY batch_start
    HAVING count() = ${sqlUInt('input root path count', inputs.length)}
  )
)
WHERE (root_path, min_block) NOT IN (
  SELECT root_path, batch_start
  FROM (${completeBatchesInnerSql(table, { chain: query.chain, rootPaths: outputs, range: query.range })})
)
ORDER BY min_block, root_path${limit}`;
}

function addDays(dt: string, days: number): string {
  return new Date(Date.parse(`${dt}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

export interface CoverageSqlQuery extends Omit<CoverageQuery, 'chain'> {
  chain: MarkerChain;
}

/**
 * FROM and WHERE over the latest parts of complete batches that fall on the query's days.
 * Parts are read a margin around the days, so the batches touching them are judged whole.
 */
function completePartsOfDaysSql(table: MarkersTable, query: CoverageSqlQuery): string {
  dtRange(query.fromDt, query.toDt);
  const filter = {
    chain: query.chain,
    rootPaths: query.rootPaths,
    fromDt: addDays(query.fromDt, -COVERAGE_MARGIN_DAYS),
    toDt: addDays(query.toDt, COVERAGE_MARGIN_DAYS),
  };
  return `FROM (${latestPartsSql(table, filter)})
WHERE (root_path, batch_start) IN (SELECT root_path, batch_start FROM (${completeBatchesInnerSql(table, filter)}))
  AND part_dt >= ${sqlDate(query.fromDt)} AND part_dt <= ${sqlDate(query.toDt)}`;
}

/** Coverage per root path and day: the blocks of that day in the parts of complete batches. */
export function coverageSql(table: MarkersTable, query: CoverageSqlQuery): string {
  return `SELECT
  root_path,
  toString(part_dt) AS dt,
  sum(part_max_block - part_min_block) AS covered_blocks,
  count() AS complete_batches,
  sum(part_row_count) AS row_count
${completePartsOfDaysSql(table, query)}
GROUP BY root_path, part_dt
ORDER BY root_path, dt`;
}

/**
 * The blocks of each day in the complete batches of the root paths: per day, the first and the
 * end block of its parts. What `spec.dates` resolves through.
 */
export function dayRangesSql(table: MarkersTable, query: CoverageSqlQuery): string {
  return `SELECT
  toString(part_dt) AS dt,
  min(part_min_block) AS min_block,
  max(part_max_block) AS max_block
${completePartsOfDaysSql(table, query)}
GROUP BY part_dt
ORDER BY dt`;
}

export function parseDayRangeRow(row: JsonRow): DayRange {
  return {
    dt: stringField(row, 'dt'),
    minBlock: integerField(row, 'min_block'),
    maxBlock: integerField(row, 'max_block'),
  };
}

// Results. Numbers arrive as strings (64-bit) or numbers (32-bit); both are checked.

type JsonRow = Record<string, unknown>;

function field(row: JsonRow, name: string): unknown {
  if (!(name in row)) throw new InvalidValueError(`marker query result lacks ${name}`);
  return row[name];
}

function integerField(row: JsonRow, name: string): number {
  return integerValue(name, field(row, name));
}

function integerValue(name: string, value: unknown): number {
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  assertNonNegativeInteger(`result ${name}`, number);
  return number;
}

function stringField(row: JsonRow, name: string): string {
  const value = field(row, name);
  if (typeof value !== 'string') throw new InvalidValueError(`result ${name} is not a string`);
  return value;
}

export function parseMarkerRow(row: JsonRow, chain: string): Marker {
  return {
    chain,
    dt: stringField(row, 'dt'),
    rootPath: stringField(row, 'root_path'),
    dataPath: stringField(row, 'data_path'),
    minBlock: integerField(row, 'min_block'),
    maxBlock: integerField(row, 'max_block'),
    rowCount: integerField(row, 'row_count'),
    numParts: integerField(row, 'num_parts'),
    processName: stringField(row, 'process_name'),
    writerName: stringField(row, 'writer_name'),
    updatedAt: new Date(`${stringField(row, 'updated_at').replace(' ', 'T')}Z`),
  };
}

export function parseCompleteBatchRow(row: JsonRow): CompleteBatch {
  const dts = field(row, 'dts');
  if (!Array.isArray(dts) || !dts.every((dt) => typeof dt === 'string')) {
    throw new InvalidValueError('result dts is not a list of days');
  }
  return {
    rootPath: stringField(row, 'root_path'),
    minBlock: integerField(row, 'min_block'),
    maxBlock: integerField(row, 'max_block'),
    dts: [...dts].sort(),
    rowCount: integerField(row, 'row_count'),
  };
}

export function parseBatchStartsRow(row: JsonRow): number[] {
  const starts = field(row, 'batch_starts');
  if (!Array.isArray(starts)) throw new InvalidValueError('result batch_starts is not a list');
  return starts.map((start: unknown) => integerValue('batch_starts', start));
}

export function parsePendingBatchRow(row: JsonRow): PendingBatch {
  return {
    rootPath: stringField(row, 'root_path'),
    minBlock: integerField(row, 'min_block'),
    maxBlock: integerField(row, 'max_block'),
  };
}

export function parseCoverageRow(row: JsonRow): DtCoverageRow {
  return {
    rootPath: stringField(row, 'root_path'),
    dt: stringField(row, 'dt'),
    coveredBlocks: integerField(row, 'covered_blocks'),
    completeBatches: integerField(row, 'complete_batches'),
    rowCount: integerField(row, 'row_count'),
  };
}
