// Markers: one row per parquet file written to the lake, in ClickHouse `blockbatch_markers`.
//
// A marker is the commit point. A writer puts the file in the lake first and the marker
// last, so a crash in between leaves a file without a marker, which the next attempt
// simply overwrites (paths are deterministic). Markers are append-only: a rerun adds new
// rows, and readers keep, per data path, the one with the latest `updated_at`. A batch is
// complete for a root path when the number of distinct data paths it recorded equals the
// `num_parts` its markers announce (2 when it straddles midnight).
import type { BlockBatch, BlockRange } from './batches.ts';
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
  dataPath: string;
  minBlock: number;
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

/** One parquet file a batch wrote: its day, its path and how many rows it holds. */
export interface WrittenPart {
  dt: string;
  dataPath: string;
  rowCount: number;
}

/** A batch that is complete for one root path. */
export interface CompleteBatch {
  rootPath: string;
  minBlock: number;
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
 * What the markers say about one day of one root path. A complete batch counts once, on
 * the day of its first block; a batch that straddles midnight therefore adds its blocks
 * to the first day only (exact over several days, off by at most one batch on one day).
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
  /** The latest marker of each data path of one batch (empty when none), sorted by dt. */
  batchMarkers(chain: string, rootPath: string, minBlock: number): Promise<Marker[]>;
  /** Complete batches per root path (first block in `range` when given), by block. */
  completeBatches(chain: string, rootPaths: readonly string[], range?: BlockRange): Promise<CompleteBatch[]>;
  /** Ingested (complete in every input) × output root paths, minus complete outputs. */
  pendingBatches(query: PendingBatchesQuery): Promise<PendingBatch[]>;
  /** Per root path and day, what the complete batches cover (days without data omitted). */
  coverage(query: CoverageQuery): Promise<DtCoverageRow[]>;
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
 * The markers that commit one batch of one root path: one per file, each announcing the
 * batch's block range and the number of parts. Checks that the parts are the batch's own
 * deterministic paths, one per distinct day.
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
  const seen = new Set<string>();
  return parts.map((part) => {
    assertDt(part.dt);
    assertNonNegativeInteger('row count', part.rowCount);
    if (seen.has(part.dt)) throw new InvalidValueError(`two parts for dt ${part.dt}`);
    seen.add(part.dt);
    const expected = dataPath(rootPath, chain, part.dt, batch.minBlock);
    if (part.dataPath !== expected) {
      throw new InvalidValueError(`part path ${part.dataPath} is not the batch's path ${expected}`);
    }
    return {
      chain,
      dt: part.dt,
      rootPath,
      dataPath: part.dataPath,
      minBlock: batch.minBlock,
      maxBlock: batch.maxBlock,
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
