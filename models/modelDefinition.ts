// What a model is, and what it gets and gives when it runs one batch. The worker and the
// CLI never call a model directly: they go through runModelBatch (runBatch.ts), which
// does the skip check, the inputs, the files and the markers around `run`.
import type { Logger } from 'pino';
import type { DataLake } from '../adapters/lake/dataLake.ts';
import type { EthereumRpc } from '../adapters/ethereum/ethereumRpc.ts';
import type { BlockBatch } from '../dataplane/batches.ts';
import type { ChainConfig } from '../dataplane/chains.ts';
import type { DayRange } from '../dataplane/markers.ts';
import type { DuckDbSession } from '../adapters/parquet/duckDbSession.ts';
import type { ParquetRow, ParquetSchema } from '../dataplane/parquetSchema.ts';
import type { ModelKind } from '../contract/queues.ts';
import type { TokenMetadataSource } from './tokenMetadataSource.ts';

export interface DatasetDefinition {
  /** A model name (contract/names.ts); the output root path is `blockbatch/<model>/<name>_v<version>`. */
  name: string;
  schema: ParquetSchema;
  /** The `timestamp` column that decides a row's day (`dt`): the block timestamp. */
  timestampColumn: string;
  /** Columns that identify a row within the batch (Kafka record keys, de-duplication). */
  keyColumns: readonly string[];
  /**
   * Only for the ingest model, whose outputs are the lake's `ingestion/*` root paths.
   * Every other dataset lives under `blockbatch/`.
   */
  rootPath?: string;
}

export interface ModelDefinition {
  name: string;
  /** Positive integer; part of every output root path, so a new version writes new files. */
  version: number;
  kind: ModelKind;
  description: string;
  /**
   * Root paths this model reads. A batch runs only once it is complete in every one of
   * them (their markers), and its days are theirs. Empty for ingest (JSON-RPC is its input).
   */
  inputRootPaths: readonly string[];
  datasets: readonly DatasetDefinition[];
  run(batch: BlockBatch, context: ModelContext): Promise<ModelOutput>;
}

/** One complete input of the batch: its days and its files, as local paths DuckDB can read. */
export interface BatchInput {
  rootPath: string;
  /** The batch's days with their blocks, in order (from the input's markers). */
  days: readonly DayRange[];
  /** One per day; local copies when the lake is remote. */
  localFiles: readonly string[];
}

export interface ModelContext {
  chain: ChainConfig;
  lake: DataLake;
  rpc: EthereumRpc;
  /** Token decimals/symbols; the Redis cache in workers, possibly uncached in the CLI. */
  tokenMetadata: TokenMetadataSource;
  /** A DuckDB session for this batch only (closed by runModelBatch). */
  session: DuckDbSession;
  /** By root path, one entry per `inputRootPaths` entry. */
  inputs: ReadonlyMap<string, BatchInput>;
  /** A private folder for this batch, removed afterwards. */
  scratchDir: string;
  logger: Logger;
  /** Aborted when the batch must stop (worker shutdown); pass it to every RPC call. */
  signal: AbortSignal;
}

/**
 * A dataset's output: JS rows (ingestion, balances), or a DuckDB SELECT over the
 * session that yields exactly the schema's columns in order (the fast path: rows never
 * enter JS).
 */
export type DatasetOutput = { kind: 'rows'; rows: readonly ParquetRow[] } | { kind: 'query'; query: string };

export interface ModelOutput {
  /** By dataset name: one entry for every dataset of the model. */
  datasets: Readonly<Record<string, DatasetOutput>>;
  /** What the model wants known, e.g. `skippedMalformedLogs`. Summed into the batch summary. */
  counters?: Readonly<Record<string, number>>;
  /**
   * The batch's days and their blocks. Required from models without inputs (ingest: from the
   * blocks it fetched); ignored otherwise (the inputs' days are the batch's days).
   */
  days?: readonly DayRange[];
}
