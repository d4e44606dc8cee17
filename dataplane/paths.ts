// Deterministic data lake paths. A file's path depends only on what it holds (root path,
// chain, day, first block of its batch), so a rerun overwrites the same object instead of
// adding a second one, and a listing sorts by block within a day.
//
//   <root_path>/chain=<chain>/dt=<YYYY-MM-DD>/<min_block:012d>.parquet
import {
  InvalidValueError,
  assertChainName,
  assertDt,
  assertModelName,
  assertNonNegativeInteger,
  assertRootPath,
} from './validNames.ts';

/**
 * The root paths the `ingest` model writes. transactions is at version 2 (receipt fields
 * added), so batches ingested before are not taken as having them.
 */
export const INGESTION_ROOT_PATHS = {
  blocks: 'ingestion/blocks_v1',
  transactions: 'ingestion/transactions_v2',
  logs: 'ingestion/logs_v1',
} as const;

/** Where a model's output dataset lives: `blockbatch/<model>/<dataset>_v<version>`. */
export function modelOutputRootPath(model: string, dataset: string, version: number): string {
  assertModelName('model', model);
  assertModelName('dataset', dataset);
  if (!Number.isSafeInteger(version) || version < 1) {
    throw new InvalidValueError(`invalid dataset version ${String(version)}: must be a positive integer`);
  }
  const rootPath = `blockbatch/${model}/${dataset}_v${version}`;
  assertRootPath(rootPath);
  return rootPath;
}

/** A batch's first block as a file name stem: zero-padded to 12 digits (wider if needed). */
export function blockFileStem(minBlock: number): string {
  assertNonNegativeInteger('minBlock', minBlock);
  return String(minBlock).padStart(12, '0');
}

/** The parquet file holding one day (`dt`) of the batch starting at `batchStart`. */
export function dataPath(rootPath: string, chain: string, dt: string, batchStart: number): string {
  assertRootPath(rootPath);
  assertChainName(chain);
  assertDt(dt);
  return `${rootPath}/chain=${chain}/dt=${dt}/${blockFileStem(batchStart)}.parquet`;
}

/**
 * The name of a batch's marker set: its data paths without the day, since one batch may
 * write two days. A stable id for the batch in logs, keys and error lists.
 */
export function markerPath(rootPath: string, chain: string, minBlock: number): string {
  assertRootPath(rootPath);
  assertChainName(chain);
  return `${rootPath}/chain=${chain}/${blockFileStem(minBlock)}`;
}

/** The folder that holds one chain of a root path (for listings and cleanup). */
export function chainPrefix(rootPath: string, chain: string): string {
  assertRootPath(rootPath);
  assertChainName(chain);
  return `${rootPath}/chain=${chain}`;
}

export interface DataPathParts {
  rootPath: string;
  chain: string;
  dt: string;
  /** The first block of the batch the file belongs to (its name). */
  batchStart: number;
}

const DATA_PATH = /^(.+)\/chain=([^/]+)\/dt=([^/]+)\/(\d{12,16})\.parquet$/;

/** The inverse of {@link dataPath}; refuses anything {@link dataPath} would not produce. */
export function parseDataPath(path: string): DataPathParts {
  const match = DATA_PATH.exec(path);
  if (!match) throw new InvalidValueError(`not a data path: ${JSON.stringify(path)}`);
  const [, rootPath, chain, dt, stem] = match as unknown as [string, string, string, string, string];
  const parts = { rootPath, chain, dt, batchStart: Number(stem) };
  if (dataPath(parts.rootPath, parts.chain, parts.dt, parts.batchStart) !== path) {
    throw new InvalidValueError(`not a canonical data path: ${JSON.stringify(path)}`);
  }
  return parts;
}

/** The UTC day (`YYYY-MM-DD`) of a block timestamp in seconds since the epoch. */
export function dtOfTimestamp(timestampSeconds: number): string {
  assertNonNegativeInteger('block timestamp', timestampSeconds);
  return new Date(timestampSeconds * 1000).toISOString().slice(0, 10);
}
