// The data plane core, pure: chains and batches, lake paths, parquet schemas, marker rules and
// SQL. No I/O: parquet writing, DuckDB and the lake live under adapters/. Import from here.
export {
  type BatchSizeDelimiter,
  type BlockBatch,
  type BlockRange,
  type PlanBatchesOptions,
  batchContaining,
  lastSafeBlock,
  planBatches,
  validateDelimiters,
} from './batches.ts';
export {
  type ChainConfig,
  type Chains,
  type RpcEndpointSource,
  loadChains,
  parseChains,
  planChainBatches,
  requireChain,
  rpcUrlFor,
} from './chains.ts';
export {
  INGESTION_ROOT_PATHS,
  type DataPathParts,
  blockFileStem,
  chainPrefix,
  dataPath,
  dtOfTimestamp,
  markerPath,
  modelOutputRootPath,
  parseDataPath,
} from './paths.ts';
export { type DtPart, splitRowsByDt } from './dtParts.ts';
export {
  type ParquetColumn,
  type ParquetColumnType,
  type ParquetRow,
  type ParquetSchema,
  type ParquetValue,
  canonicalValue,
  duckDbColumnsSql,
  duckDbTypeOf,
  validateSchema,
} from './parquetSchema.ts';
export {
  type BatchMarkersInput,
  type CompleteBatch,
  type CoverageQuery,
  DEFAULT_MARKERS_TABLE,
  type DtCoverage,
  type DtCoverageRow,
  type Marker,
  type MarkerStore,
  type MarkersTable,
  type NewMarker,
  type PendingBatch,
  type PendingBatchesQuery,
  type WrittenPart,
  coverageReport,
  dtRange,
  markersForBatch,
} from './markers.ts';
export { InvalidValueError } from './validNames.ts';
