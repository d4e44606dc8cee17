// ingest: JSON-RPC → ingestion/blocks_v1, ingestion/transactions_v1, ingestion/logs_v1.
// Blocks come through batched eth_getBlockByNumber (full transactions), logs through
// eth_getLogs over the batch's range (split as the endpoint's caps require, a block over
// its result cap read from receipts); the client handles retries, batch caps and the rate limit.
import { highestSafeBlock } from '../../adapters/ethereum/safeTip.ts';
import { BatchNotReadyError } from '../batchReadiness.ts';
import { INGEST_MANIFEST, manifestIdentity, outputRootPath } from '../manifests.ts';
import type { ModelDefinition } from '../modelDefinition.ts';
import { ingestionRows } from './ingestRows.ts';
import { blocksSchema, logsSchema, transactionsSchema } from './ingestSchemas.ts';

export const ingestModel: ModelDefinition = {
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
    const { rpc, signal } = context;
    const lastBlock = batch.maxBlock - 1;
    // Blocks near the tip may still be reorganised away: wait until the whole batch is safe.
    const safe = await highestSafeBlock(rpc, context.chain.tipSafetyBlocks, signal);
    if (lastBlock > safe) {
      throw new BatchNotReadyError(
        `batch ${batch.minBlock}-${lastBlock} is not safe yet: the highest safe block is ${safe} ` +
          `(tip safety distance ${context.chain.tipSafetyBlocks})`,
      );
    }
    const numbers = Array.from({ length: batch.maxBlock - batch.minBlock }, (_, i) => batch.minBlock + i);
    const [blocks, logs] = await Promise.all([
      rpc.getBlocks(numbers, signal),
      rpc.getLogsInRange(batch.minBlock, lastBlock, signal),
    ]);
    const rows = ingestionRows(batch, blocks, logs);
    context.logger.debug(
      { blocks: rows.blocks.length, transactions: rows.transactions.length, logs: rows.logs.length },
      'ingested batch',
    );
    return {
      datasets: {
        blocks: { kind: 'rows', rows: rows.blocks },
        transactions: { kind: 'rows', rows: rows.transactions },
        logs: { kind: 'rows', rows: rows.logs },
      },
      days: rows.days,
    };
  },
};
