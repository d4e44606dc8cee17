// The reference path of erc20_transfers: the same decode in JS, row by row. Used where
// rows are already in JS, and by tests to prove the SQL path (erc20TransfersSql.ts) right.
import { ERC20_TRANSFER_TOPIC, decodeTransferLog, type TransferSkipReason } from '../abi/erc20TransferLog.ts';
import type { ParquetRow } from '../../dataplane/parquetSchema.ts';

export interface LogRow {
  block_number: number | bigint;
  block_timestamp: number | Date;
  transaction_hash: string;
  log_index: number;
  address: string;
  topic0: string | null;
  topic1: string | null;
  topic2: string | null;
  topic3: string | null;
  data: string;
}

export interface DecodedTransfers {
  rows: ParquetRow[];
  skipped: Record<TransferSkipReason, number>;
}

export function decodeTransferRows(logs: readonly LogRow[]): DecodedTransfers {
  const rows: ParquetRow[] = [];
  const skipped: Record<TransferSkipReason, number> = {
    wrong_topic_count: 0,
    wrong_data_length: 0,
    malformed_address: 0,
  };
  for (const log of logs) {
    if (log.topic0 !== ERC20_TRANSFER_TOPIC) continue;
    // Topics are positional: the first null ends them.
    const topics: string[] = [];
    for (const topic of [log.topic0, log.topic1, log.topic2, log.topic3]) {
      if (topic === null) break;
      topics.push(topic);
    }
    const decoded = decodeTransferLog({ topics, data: log.data });
    if (!decoded.ok) {
      skipped[decoded.reason]++;
      continue;
    }
    rows.push({
      block_number: log.block_number,
      block_timestamp: log.block_timestamp,
      transaction_hash: log.transaction_hash,
      log_index: log.log_index,
      token_address: log.address.toLowerCase(),
      from_address: decoded.transfer.from,
      to_address: decoded.transfer.to,
      value: decoded.transfer.value,
    });
  }
  rows.sort((a, b) =>
    a.block_number === b.block_number
      ? (a.log_index as number) - (b.log_index as number)
      : Number(a.block_number) - Number(b.block_number),
  );
  return { rows, skipped };
}
