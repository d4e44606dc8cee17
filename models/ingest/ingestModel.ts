// ingest: JSON-RPC → ingestion/blocks_v1, ingestion/transactions_v2 (with receipt fields),
// ingestion/logs_v1. Blocks come through batched eth_getBlockByNumber (full transactions),
// receipts through eth_getBlockReceipts (per transaction where a node lacks it); the client
// handles retries, batch caps and the rate limit.
//
// Two decoders give the same rows (a test holds them to it):
// - `sql` (default): the answers go to files unread and DuckDB decodes them, sub-range by
//   sub-range while the next is fetched (ingestPipeline.ts); logs come from the receipts.
// - `js`: JSON.parse, the rpcShapes.ts validators and JS rows (ingestRows.ts); logs through
//   eth_getLogs over the batch (split as the endpoint's caps require). The reference.
import { highestSafeBlock } from '../../adapters/ethereum/safeTip.ts';
import type { BlockBatch } from '../../dataplane/batches.ts';
import { dayRangesOfBlocks } from '../../dataplane/dtParts.ts';
import { BatchNotReadyError } from '../batchReadiness.ts';
import { INGEST_MANIFEST, manifestIdentity, outputRootPath } from '../manifests.ts';
import type { ModelContext, ModelDefinition, ModelOutput } from '../modelDefinition.ts';
import { runIngestPipeline } from './ingestPipeline.ts';
import { ingestionRows } from './ingestRows.ts';
import { blocksSchema, logsSchema, transactionsSchema } from './ingestSchemas.ts';
import { type SubRangeSizer, SubRangeSizes } from './subRanges.ts';

export interface IngestOptions {
  /** `sql` (default): DuckDB decodes the node's JSON. `js`: the JS reference path. */
  decoder?: 'sql' | 'js';
}

/** Blocks near the tip may still be reorganised away: the whole batch must be safe. */
async function assertBatchSafe(batch: BlockBatch, context: ModelContext): Promise<void> {
  const lastBlock = batch.maxBlock - 1;
  const safe = await highestSafeBlock(context.rpc, context.chain.tipSafetyBlocks, context.signal);
  if (lastBlock > safe) {
    throw new BatchNotReadyError(
      `batch ${batch.minBlock}-${lastBlock} is not safe yet: the highest safe block is ${safe} ` +
        `(tip safety distance ${context.chain.tipSafetyBlocks})`,
    );
  }
}

async function runJs(batch: BlockBatch, context: ModelContext): Promise<ModelOutput> {
  const { rpc, signal } = context;
  const numbers = Array.from({ length: batch.maxBlock - batch.minBlock }, (_, i) => batch.minBlock + i);
  const [blocks, logs, receipts] = await Promise.all([
    rpc.getBlocks(numbers, signal),
    rpc.getLogsInRange(batch.minBlock, batch.maxBlock - 1, signal),
    rpc.getReceiptsOfBlocks(numbers, signal),
  ]);
  const rows = ingestionRows(
    batch,
    blocks,
    logs,
    receipts.map((block) => block.receipts),
  );
  return {
    datasets: {
      blocks: { kind: 'rows', rows: rows.blocks },
      transactions: { kind: 'rows', rows: rows.transactions },
      logs: { kind: 'rows', rows: rows.logs },
    },
    days: rows.days,
  };
}

async function runSql(batch: BlockBatch, context: ModelContext, sizes: SubRangeSizer): Promise<ModelOutput> {
  const result = await runIngestPipeline({
    batch,
    rpc: context.rpc,
    session: context.session,
    scratchDir: context.scratchDir,
    signal: context.signal,
    sizes,
  });
  context.logger.debug({ subRanges: result.subRanges, parts: result.parts }, 'ingested batch');
  return {
    datasets: {
      blocks: { kind: 'query', query: result.queries.blocks },
      transactions: { kind: 'query', query: result.queries.transactions },
      logs: { kind: 'query', query: result.queries.logs },
    },
    days: dayRangesOfBlocks(batch, result.blocks),
  };
}

export function createIngestModel(options: IngestOptions = {}): ModelDefinition {
  const decoder = options.decoder ?? 'sql';
  // What a chain's blocks weigh, learned batch after batch: sub-ranges fit from the start.
  const sizes = new Map<string, SubRangeSizer>();
  return {
    ...manifestIdentity(INGEST_MANIFEST),
    datasets: [
      {
        name: 'blocks',
        rootPath: outputRootPath(INGEST_MANIFEST, 'blocks'),
        schema: blocksSchema,
        timestampColumn: 'block_timestamp',
        keyColumns: ['block_number'],
      },
      {
        name: 'transactions',
        rootPath: outputRootPath(INGEST_MANIFEST, 'transactions'),
        schema: transactionsSchema,
        timestampColumn: 'block_timestamp',
        keyColumns: ['transaction_hash'],
      },
      {
        name: 'logs',
        rootPath: outputRootPath(INGEST_MANIFEST, 'logs'),
        schema: logsSchema,
        timestampColumn: 'block_timestamp',
        keyColumns: ['block_number', 'log_index'],
      },
    ],

    async run(batch, context) {
      await assertBatchSafe(batch, context);
      if (decoder === 'js') return runJs(batch, context);
      const chainSizes = sizes.get(context.chain.name) ?? new SubRangeSizes();
      sizes.set(context.chain.name, chainSizes);
      return runSql(batch, context, chainSizes);
    },
  };
}

export const ingestModel = createIngestModel();
