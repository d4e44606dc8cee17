// erc20_transfers (nonreads): ERC-20 Transfer logs from ingestion/logs_v1 → one row per
// transfer. Logs that only look like transfers (ERC-721's 4 topics, short data, dirty
// address padding) are counted under `skipped_<reason>` and never fail the batch.
import { readParquetSql } from '../../adapters/parquet/duckDbSession.ts';
import { INGESTION_ROOT_PATHS } from '../../dataplane/paths.ts';
import { transferSkipReasons } from '../abi/erc20TransferLog.ts';
import { ERC20_TRANSFERS_MANIFEST, manifestIdentity } from '../manifests.ts';
import type { ModelDefinition, ModelOutput } from '../modelDefinition.ts';
import { decodeTransferRows, type LogRow } from './erc20TransfersJs.ts';
import { erc20TransfersSchema } from './erc20TransfersSchema.ts';
import { erc20TransfersSql, transferSkipCountsSql } from './erc20TransfersSql.ts';

export interface Erc20TransfersOptions {
  /**
   * `sql` (default): decode inside DuckDB, rows never enter JS (the fast path).
   * `js`: read the logs into JS and decode there (the reference, for comparison).
   */
  decoder?: 'sql' | 'js';
}

export function createErc20TransfersModel(options: Erc20TransfersOptions = {}): ModelDefinition {
  const decoder = options.decoder ?? 'sql';
  return {
    ...manifestIdentity(ERC20_TRANSFERS_MANIFEST),
    datasets: [
      {
        name: 'erc20_transfers',
        schema: erc20TransfersSchema,
        timestampColumn: 'block_timestamp',
        keyColumns: ['block_number', 'log_index'],
      },
    ],

    async run(_batch, context): Promise<ModelOutput> {
      const logs = context.inputs.get(INGESTION_ROOT_PATHS.logs);
      if (!logs) throw new Error('erc20_transfers needs its logs input');
      const source = readParquetSql(logs.localFiles);
      const counters: Record<string, number> = Object.fromEntries(
        transferSkipReasons.map((reason) => [`skipped_${reason}`, 0]),
      );
      if (decoder === 'js') {
        const rows = (await context.session.query(
          `SELECT block_number, epoch(block_timestamp)::BIGINT AS block_timestamp, transaction_hash, log_index,
                  address, topic0, topic1, topic2, topic3, data FROM ${source}`,
        )) as unknown as LogRow[];
        for (const row of rows) row.block_timestamp = Number(row.block_timestamp);
        const decoded = decodeTransferRows(rows);
        for (const reason of transferSkipReasons) counters[`skipped_${reason}`] = decoded.skipped[reason];
        return { datasets: { erc20_transfers: { kind: 'rows', rows: decoded.rows } }, counters };
      }
      for (const row of await context.session.query(transferSkipCountsSql(source))) {
        counters[`skipped_${String(row.reason)}`] = Number(row.logs);
      }
      return { datasets: { erc20_transfers: { kind: 'query', query: erc20TransfersSql(source) } }, counters };
    },
  };
}

export const erc20TransfersModel = createErc20TransfersModel();
