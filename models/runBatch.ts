// One batch of one model, end to end, the same way for the worker and the CLI:
//
//   skip when every output is complete (unless forced) → inputs complete? (their markers)
//   → run the model → parquet per day to the lake → sink hook (Kafka, in the worker)
//   → markers, last: the commit point → summary
//
// A failure anywhere before the markers leaves the batch uncommitted; a rerun rewrites
// the same deterministic paths, so nothing is duplicated.
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { EthereumRpc } from '../adapters/ethereum/ethereumRpc.ts';
import type { DataLake } from '../adapters/lake/dataLake.ts';
import type { BlockBatch } from '../dataplane/batches.ts';
import { writeQueryParts, writeRowParts, type BatchTarget } from '../adapters/parquet/batchParts.ts';
import { type ChainConfig, assertChainBatch } from '../dataplane/chains.ts';
import {
  DuckDbSession,
  type DuckDbSessionOptions,
  readParquetSql,
} from '../adapters/parquet/duckDbSession.ts';
import {
  type DayRange,
  type Marker,
  type MarkerStore,
  type WrittenPart,
  markersForBatch,
} from '../dataplane/markers.ts';
import type { ParquetRow } from '../dataplane/parquetSchema.ts';
import { InvalidValueError } from '../dataplane/validNames.ts';
import { BatchNotReadyError } from './batchReadiness.ts';
import type { BatchInput, DatasetOutput, ModelContext, ModelOutput } from './modelDefinition.ts';
import type { ModelDataset, RegisteredModel } from './modelRegistry.ts';
import { type TokenMetadataSource, uncachedTokenMetadata } from './tokenMetadataSource.ts';

/** DuckDB's memory limit (the process's database, shared by its concurrent batches) unless the caller sets one. */
export const DEFAULT_DUCKDB_MEMORY_LIMIT = '384MB';

/** Where the process's DuckDB spills; removed when the process exits. */
function duckDbSpillDir(): string {
  const dir = join(tmpdir(), `model-runner-duckdb-${process.pid}`);
  if (!spillDirOwned) {
    spillDirOwned = true;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return dir;
}
let spillDirOwned = false;

/** One dataset of a batch, in the lake and not yet committed. */
export interface WrittenDataset {
  dataset: string;
  rootPath: string;
  keyColumns: readonly string[];
  /** One per day, sorted by day. */
  parts: readonly WrittenPart[];
  rowCount: number;
  /**
   * The rows, read back from the files just written, in chunks (day by day, file order).
   * Values as DuckDB gives them to JS: int64 → bigint, int32 → number, timestamp → Date,
   * strings (decimal strings included) → string, null for nulls.
   */
  readRows(chunkSize?: number): AsyncGenerator<Record<string, unknown>[]>;
}

export interface WrittenOutput {
  model: string;
  version: number;
  chain: string;
  batch: BlockBatch;
  datasets: readonly WrittenDataset[];
  signal: AbortSignal;
}

export interface RunModelBatchOptions {
  model: RegisteredModel;
  chain: ChainConfig;
  batch: BlockBatch;
  lake: DataLake;
  markers: MarkerStore;
  rpc: EthereumRpc;
  /** Default: no cache (every batch loads what it needs). Workers pass the Redis cache. */
  tokenMetadata?: TokenMetadataSource;
  logger: Logger;
  signal?: AbortSignal;
  /** Rewrite even when the outputs' markers are complete. */
  force?: boolean;
  /** Marker `process_name`: who asked (`namespace/modelrun`, or `cli/<user>`). */
  processName: string;
  /** Marker `writer_name`: the pod or host. */
  writerName: string;
  /**
   * Called once every file is in the lake and before any marker is written: the place
   * for the Kafka sink. If it throws, the batch stays uncommitted (and is retried whole).
   */
  onOutputWritten?: (output: WrittenOutput) => Promise<void>;
  /** DuckDB settings for the batch's session; default one thread (a worker is one core). */
  duckDb?: DuckDbSessionOptions;
}

export interface BatchSummary {
  model: string;
  version: number;
  chain: string;
  batch: BlockBatch;
  /** True when every output was complete already and nothing was written. */
  skipped: boolean;
  /** Output rows per dataset (0 when skipped). */
  rows: Record<string, number>;
  /** Lake paths written (empty when skipped). */
  files: string[];
  /** The batch's days. */
  dts: string[];
  /** The model's counters, e.g. skipped_wrong_topic_count. */
  counters: Record<string, number>;
  durationMs: number;
}

function timestampSeconds(value: unknown, column: string): number {
  if (typeof value === 'number') return value;
  if (value instanceof Date) return Math.floor(value.getTime() / 1000);
  throw new InvalidValueError(`column ${column}: expected a Date or seconds, got ${String(value)}`);
}

async function localInputFiles(
  lake: DataLake,
  markers: readonly Marker[],
  scratchDir: string,
): Promise<string[]> {
  const files: string[] = [];
  for (const [i, marker] of markers.entries()) {
    const local = lake.localFileOf(marker.dataPath);
    if (local !== undefined) {
      files.push(local);
      continue;
    }
    const copy = join(scratchDir, `input-${i}-${marker.dt}.parquet`);
    await lake.copyToLocalFile(marker.dataPath, copy);
    files.push(copy);
  }
  return files;
}

/**
 * Inputs of the batch from their markers; a missing or incomplete one means "not ready". The
 * store decides completeness (dataplane/batchCompleteness.ts), so the worker and the planner
 * agree on it by construction.
 */
async function resolveInputs(
  options: RunModelBatchOptions,
  scratchDir: string,
): Promise<Map<string, BatchInput>> {
  const { model, chain, batch, markers, lake } = options;
  const inputs = new Map<string, BatchInput>();
  for (const rootPath of model.inputRootPaths) {
    const inputMarkers = await markers.completeBatchMarkers(chain.name, rootPath, batch.minBlock);
    if (!inputMarkers) {
      throw new BatchNotReadyError(
        `input ${rootPath} is not complete for batch ${batch.minBlock}-${batch.maxBlock - 1} of ${chain.name}`,
      );
    }
    inputs.set(rootPath, {
      rootPath,
      days: inputMarkers.map(({ dt, minBlock, maxBlock }) => ({ dt, minBlock, maxBlock })),
      localFiles: await localInputFiles(lake, inputMarkers, scratchDir),
    });
  }
  return inputs;
}

/** The batch's days: the model's own (ingest), or its inputs', which must all agree. */
function batchDays(
  model: RegisteredModel,
  inputs: ReadonlyMap<string, BatchInput>,
  output: ModelOutput,
): readonly DayRange[] {
  if (model.inputRootPaths.length === 0) {
    if (!output.days) throw new InvalidValueError(`model ${model.name} gave no days for its batch`);
    return output.days;
  }
  const [first, ...others] = [...inputs.values()];
  const key = (days: readonly DayRange[]) => days.map((d) => `${d.dt}:${d.minBlock}-${d.maxBlock}`).join(',');
  for (const other of others) {
    if (key(other.days) !== key(first!.days)) {
      throw new InvalidValueError(
        `inputs ${first!.rootPath} and ${other.rootPath} split the batch into different days: ${key(first!.days)} against ${key(other.days)}`,
      );
    }
  }
  return first!.days;
}

function writtenDataset(
  session: DuckDbSession,
  lake: DataLake,
  dataset: ModelDataset,
  parts: WrittenPart[],
  scratchDir: string,
): WrittenDataset {
  return {
    dataset: dataset.name,
    rootPath: dataset.rootPath,
    keyColumns: dataset.keyColumns,
    parts,
    rowCount: parts.reduce((sum, part) => sum + part.rowCount, 0),
    async *readRows(chunkSize = 10_000) {
      for (const [i, part] of parts.entries()) {
        if (part.rowCount === 0) continue;
        let file = lake.localFileOf(part.dataPath);
        if (file === undefined) {
          file = join(scratchDir, `sink-${dataset.name}-${i}.parquet`);
          await lake.copyToLocalFile(part.dataPath, file);
        }
        const table = `sink_${dataset.name}_${i}`;
        await session.run(`CREATE OR REPLACE TEMP TABLE ${table} AS SELECT * FROM ${readParquetSql([file])}`);
        try {
          for (let start = 0; start < part.rowCount; start += chunkSize) {
            yield await session.query(`SELECT * EXCLUDE (rn) FROM (SELECT *, rowid AS rn FROM ${table})
              WHERE rn >= ${start} AND rn < ${start + chunkSize} ORDER BY rn`);
          }
        } finally {
          await session.run(`DROP TABLE IF EXISTS ${table}`);
        }
      }
    },
  };
}

async function writeDataset(
  target: BatchTarget,
  dataset: ModelDataset,
  output: DatasetOutput,
  days: readonly DayRange[],
  session: DuckDbSession,
): Promise<WrittenPart[]> {
  if (output.kind === 'query') {
    return writeQueryParts(target, {
      session,
      query: output.query,
      timestampColumn: dataset.timestampColumn,
      days,
    });
  }
  return writeRowParts<ParquetRow>(target, {
    schema: dataset.schema,
    rows: output.rows,
    timestampOf: (row) => timestampSeconds(row[dataset.timestampColumn], dataset.timestampColumn),
    days,
    session,
  });
}

/** Runs one batch of one model; see the top of this file for the steps. */
export async function runModelBatch(options: RunModelBatchOptions): Promise<BatchSummary> {
  const started = performance.now();
  const { model, chain, batch, lake, markers } = options;
  const signal = options.signal ?? new AbortController().signal;
  const logger = options.logger.child({
    model: model.name,
    version: model.version,
    chain: chain.name,
    minBlock: batch.minBlock,
    maxBlock: batch.maxBlock,
  });
  assertChainBatch(chain, batch);
  const summary = (skipped: boolean, rest: Partial<BatchSummary> = {}): BatchSummary => ({
    model: model.name,
    version: model.version,
    chain: chain.name,
    batch,
    skipped,
    rows: Object.fromEntries(model.datasets.map((dataset) => [dataset.name, 0])),
    files: [],
    dts: [],
    counters: {},
    ...rest,
    durationMs: Math.round(performance.now() - started),
  });

  if (!options.force) {
    const complete = await Promise.all(
      model.datasets.map((dataset) => markers.isBatchComplete(chain.name, dataset.rootPath, batch.minBlock)),
    );
    if (complete.every(Boolean)) {
      logger.info('batch already complete, skipped');
      return summary(true);
    }
  }
  signal.throwIfAborted();

  const scratchDir = await mkdtemp(join(tmpdir(), `model-runner-${model.name}-`));
  // One thread and a bounded memory (spilling to the process's DuckDB folder) keep a
  // worker's footprint predictable: DuckDB's own default would take 80% of the machine's
  // RAM. The database is the process's, the connection (temp tables included) the batch's.
  const session = await DuckDbSession.shared({
    threads: 1,
    memoryLimit: DEFAULT_DUCKDB_MEMORY_LIMIT,
    tempDirectory: duckDbSpillDir(),
    ...options.duckDb,
  });
  try {
    const inputs = await resolveInputs(options, scratchDir);
    const context: ModelContext = {
      chain,
      lake,
      rpc: options.rpc,
      tokenMetadata: options.tokenMetadata ?? uncachedTokenMetadata,
      session,
      inputs,
      scratchDir,
      logger,
      signal,
    };
    const output = await model.run(batch, context);
    signal.throwIfAborted();

    const days = batchDays(model, inputs, output);
    const unknown = Object.keys(output.datasets).filter(
      (name) => !model.datasets.some((d) => d.name === name),
    );
    if (unknown.length > 0)
      throw new InvalidValueError(`model ${model.name} returned unknown datasets ${unknown.join(', ')}`);

    const written: WrittenDataset[] = [];
    for (const dataset of model.datasets) {
      const datasetOutput = output.datasets[dataset.name];
      if (!datasetOutput)
        throw new InvalidValueError(`model ${model.name} returned no ${dataset.name} output`);
      const target: BatchTarget = { lake, rootPath: dataset.rootPath, chain: chain.name, batch };
      const parts = await writeDataset(target, dataset, datasetOutput, days, session);
      written.push(writtenDataset(session, lake, dataset, parts, scratchDir));
    }

    signal.throwIfAborted();
    await options.onOutputWritten?.({
      model: model.name,
      version: model.version,
      chain: chain.name,
      batch,
      datasets: written,
      signal,
    });

    // The commit point: every file above is in the lake; one insert for all datasets.
    await markers.writeMarkers(
      written.flatMap((dataset) =>
        markersForBatch({
          chain: chain.name,
          rootPath: dataset.rootPath,
          batch,
          parts: dataset.parts,
          processName: options.processName,
          writerName: options.writerName,
        }),
      ),
    );
    const counters = { ...(output.counters ?? {}) };
    for (const [name, value] of Object.entries(counters)) {
      if (!Number.isSafeInteger(value))
        throw new InvalidValueError(`counter ${name} is not an integer: ${value}`);
    }
    const result = summary(false, {
      rows: Object.fromEntries(written.map((dataset) => [dataset.dataset, dataset.rowCount])),
      files: written.flatMap((dataset) => dataset.parts.map((part) => part.dataPath)),
      dts: days.map((day) => day.dt),
      counters,
    });
    logger.info(
      { rows: result.rows, files: result.files.length, counters, durationMs: result.durationMs },
      'batch committed',
    );
    return result;
  } finally {
    session.close();
    await rm(scratchDir, { recursive: true, force: true });
  }
}
