// Markers: one row per parquet file written to the lake, in ClickHouse `blockbatch_markers`.
//
// A marker is the commit point. A writer puts the file in the lake first and the marker
// last, so a crash in between leaves a file without a marker, which the next attempt
// simply overwrites (paths are deterministic). Markers are append-only: a rerun adds new
// rows, and readers keep, per data path, the one with the latest `updated_at`.
//
// A batch writes one file per UTC day its blocks fall on, so a batch that straddles midnight
// has two parts (`num_parts = 2`). Each part's marker records the blocks of THAT file:
// `[min_block, max_block)` are the batch's blocks whose timestamps fall on the part's day,
// even when the dataset has no rows that day. The parts of a batch tile the batch, and a
// per-day sum of `max_block - min_block` is the blocks covered that day. The batch itself is
// named by its first block, in every part's file name. When a batch is complete:
// batchCompleteness.ts.
import type { BlockBatch, BlockRange } from './batches.ts';
import { tilingProblem } from './batchCompleteness.ts';
import { dataPath } from './paths.ts';
import {
  InvalidValueError,
  assertChainName,
  assertDt,
  assertNonNegativeInteger,
  assertProcessName,
  assertRootPath,
} from './validNames.ts';

/** One row of `blockbatch_markers`. Block ranges are half-open: `[minBlock, maxBlock)`. */
export interface Marker {
  chain: string;
  dt: string;
  rootPath: string;
  /** `<root>/chain=<chain>/dt=<dt>/<batch's first block>.parquet` */
  dataPath: string;
  /** The first block of this part (the batch's first block of this day). */
  minBlock: number;
  /** The first block after this part. */
  maxBlock: number;
  rowCount: number;
  numParts: number;
  /** Who asked: the ModelRun (`namespace/name`) or the local CLI run. */
  processName: string;
  /** Who wrote: the pod or host name. */
  writerName: string;
  /** Second precision (ClickHouse DateTime, UTC). The latest per data path wins. */
  updatedAt: Date;
}

/** A marker about to be written; the store stamps `updatedAt` from its clock when absent. */
export type NewMarker = Omit<Marker, 'updatedAt'> & { updatedAt?: Date };

/** The blocks of one batch that fall on one UTC day: what one parquet file of the batch covers. */
export interface DayRange extends BlockRange {
  dt: string;
}

/** One parquet file a batch wrote: its day and blocks, its path and how many rows it holds. */
export interface WrittenPart extends DayRange {
  dataPath: string;
  rowCount: number;
}

/** A batch that is complete for one root path. */
export interface CompleteBatch {
  rootPath: string;
  /** The batch's first block. */
  minBlock: number;
  /** The batch's end (exclusive). */
  maxBlock: number;
  /** The days it wrote, sorted. */
  dts: string[];
  rowCount: number;
}

/** Output work still to do: this batch, for this output root path. */
export interface PendingBatch {
  rootPath: string;
  minBlock: number;
  maxBlock: number;
}

export interface PendingBatchesQuery {
  chain: string;
  /** The model's output root paths; a batch is pending for each one not complete. */
  outputRootPaths: readonly string[];
  /** The model's inputs; a batch is ready once it is complete in every one of them. */
  inputRootPaths: readonly string[];
  /** Only batches whose first block is in this range. */
  range?: BlockRange;
  /** At most this many rows, lowest blocks first. */
  limit?: number;
}

export interface CoverageQuery {
  chain: string;
  rootPaths: readonly string[];
  /** Inclusive day range. */
  fromDt: string;
  toDt: string;
}

/**
 * What the markers say about one day of one root path: the blocks of that day held by the
 * parts of complete batches (a batch straddling midnight adds each day's own blocks to each
 * day), how many complete batches have a part that day, and those parts' rows.
 */
export interface DtCoverageRow {
  rootPath: string;
  dt: string;
  coveredBlocks: number;
  completeBatches: number;
  rowCount: number;
}

/** A coverage row with the chain's expectation for the day. */
export interface DtCoverage extends DtCoverageRow {
  expectedBlocks: number;
  /** coveredBlocks / expectedBlocks (may exceed 1 on a fast day). */
  ratio: number;
}

/** The marker table's home: a database (tests use their own) and the table name. */
export interface MarkersTable {
  database: string;
  table: string;
}

export const DEFAULT_MARKERS_TABLE = 'blockbatch_markers';

/** What the data plane needs from a marker store (ClickHouse in production and tests). */
export interface MarkerStore {
  /** Creates the database and table if missing; safe to call any number of times. */
  ensureTable(): Promise<void>;
  /** Appends markers. Call only after every file they describe is in the lake. */
  writeMarkers(markers: readonly NewMarker[]): Promise<void>;
  /** True when the batch starting at `minBlock` is complete for `rootPath`. */
  isBatchComplete(chain: string, rootPath: string, minBlock: number): Promise<boolean>;
  /** The parts of the batch starting at `minBlock`, by day, when they commit it whole; else undefined. */
  completeBatchMarkers(chain: string, rootPath: string, minBlock: number): Promise<Marker[] | undefined>;
  /** The latest marker of each data path of one batch, complete or not (empty when none), by day. */
  batchMarkers(chain: string, rootPath: string, minBlock: number): Promise<Marker[]>;
  /** Complete batches per root path (first block in `range` when given), by block. */
  completeBatches(chain: string, rootPaths: readonly string[], range?: BlockRange): Promise<CompleteBatch[]>;
  /**
   * First blocks of the batches complete in every one of `rootPaths`, sorted; with `ranges`, only
   * those starting in one of them (none for an empty list).
   */
  batchesCompleteInAll(
    chain: string,
    rootPaths: readonly string[],
    ranges?: readonly BlockRange[],
  ): Promise<number[]>;
  /** Ingested (complete in every input) × output root paths, minus complete outputs. */
  pendingBatches(query: PendingBatchesQuery): Promise<PendingBatch[]>;
  /** Per root path and day, what the complete batches cover (days without data omitted). */
  coverage(query: CoverageQuery): Promise<DtCoverageRow[]>;
  /** Per day, the blocks the complete batches of one root path hold (days without data omitted). */
  dayRanges(query: CoverageQuery): Promise<DayRange[]>;
  close(): Promise<void>;
}

export interface BatchMarkersInput {
  chain: string;
  rootPath: string;
  batch: BlockBatch;
  /** Every file the batch wrote for this root path (one per day). */
  parts: readonly WrittenPart[];
  processName: string;
  writerName: string;
}

/**
 * The markers that commit one batch of one root path: one per file, each with the file's own
 * block range and the number of parts. Checks that the parts are the batch's own
 * deterministic paths, one per distinct day, and that their ranges tile the batch.
 */
export function markersForBatch(input: BatchMarkersInput): NewMarker[] {
  const { chain, rootPath, batch, parts, processName, writerName } = input;
  assertChainName(chain);
  assertRootPath(rootPath);
  assertProcessName('process name', processName);
  assertProcessName('writer name', writerName);
  assertNonNegativeInteger('batch minBlock', batch.minBlock);
  assertNonNegativeInteger('batch maxBlock', batch.maxBlock);
  if (batch.maxBlock <= batch.minBlock) {
    throw new InvalidValueError(`batch ${batch.minBlock}-${batch.maxBlock} is empty`);
  }
  if (parts.length === 0)
    throw new InvalidValueError('a batch writes at least one part (an empty file counts)');
  const tiling = tilingProblem(parts, batch);
  if (tiling !== undefined) {
    throw new InvalidValueError(
      `the parts of batch [${batch.minBlock}, ${batch.maxBlock}) of ${rootPath} do not tile it: ${tiling}`,
    );
  }
  const byBlock = [...parts].sort((a, b) => a.minBlock - b.minBlock);
  if (byBlock.some((part, i) => i > 0 && part.dt <= byBlock[i - 1]!.dt)) {
    throw new InvalidValueError(
      `the parts of batch [${batch.minBlock}, ${batch.maxBlock}) are not one per day in day order`,
    );
  }
  return parts.map((part) => {
    assertDt(part.dt);
    assertNonNegativeInteger('row count', part.rowCount);
    const expected = dataPath(rootPath, chain, part.dt, batch.minBlock);
    if (part.dataPath !== expected) {
      throw new InvalidValueError(`part path ${part.dataPath} is not the batch's path ${expected}`);
    }
    return {
      chain,
      dt: part.dt,
      rootPath,
      dataPath: part.dataPath,
      minBlock: part.minBlock,
      maxBlock: part.maxBlock,
      rowCount: part.rowCount,
      numParts: parts.length,
      processName,
      writerName,
    };
  });
}

/** Every day from `fromDt` to `toDt` inclusive. */
export function dtRange(fromDt: string, toDt: string): string[] {
  assertDt(fromDt);
  assertDt(toDt);
  const dts: string[] = [];
  for (let day = Date.parse(`${fromDt}T00:00:00Z`); ; day += 86_400_000) {
    const dt = new Date(day).toISOString().slice(0, 10);
    if (dt > toDt) return dts;
    dts.push(dt);
  }
}

/**
 * The full coverage grid: every root path × every day of the query, with the chain's
 * expected blocks per day; days the markers do not mention show 0 covered blocks.
 */
export function coverageReport(
  query: CoverageQuery,
  rows: readonly DtCoverageRow[],
  expectedBlocksPerDay: number,
): DtCoverage[] {
  const byKey = new Map(rows.map((row) => [`${row.rootPath}|${row.dt}`, row]));
  const report: DtCoverage[] = [];
  for (const rootPath of query.rootPaths) {
    for (const dt of dtRange(query.fromDt, query.toDt)) {
      const row = byKey.get(`${rootPath}|${dt}`) ?? {
        rootPath,
        dt,
        coveredBlocks: 0,
        completeBatches: 0,
        rowCount: 0,
      };
      report.push({
        ...row,
        expectedBlocks: expectedBlocksPerDay,
        ratio: row.coveredBlocks / expectedBlocksPerDay,
      });
    }
  }
  return report;
}
