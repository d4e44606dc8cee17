// The ingestion datasets. Hashes and addresses are lower-case 0x hex; wei amounts are
// exact decimal strings (they overflow 64 bits); block numbers, gas and nonces fit INT64.
// transactions carry their receipt's fields since version 2 (ingestion/transactions_v2).
import type { ParquetSchema } from '../../dataplane/parquetSchema.ts';

export const blocksSchema: ParquetSchema = [
  { name: 'block_number', type: 'int64' },
  { name: 'block_timestamp', type: 'timestamp' },
  { name: 'block_hash', type: 'string' },
  { name: 'parent_hash', type: 'string' },
  { name: 'miner', type: 'string' },
  { name: 'gas_limit', type: 'int64' },
  { name: 'gas_used', type: 'int64' },
  { name: 'base_fee_per_gas', type: 'decimal_string', nullable: true },
  { name: 'transaction_count', type: 'int32' },
];

export const transactionsSchema: ParquetSchema = [
  { name: 'block_number', type: 'int64' },
  { name: 'block_timestamp', type: 'timestamp' },
  { name: 'transaction_hash', type: 'string' },
  { name: 'transaction_index', type: 'int32' },
  { name: 'from_address', type: 'string' },
  /** null for contract creation */
  { name: 'to_address', type: 'string', nullable: true },
  { name: 'value', type: 'decimal_string' },
  { name: 'nonce', type: 'int64' },
  { name: 'gas', type: 'int64' },
  { name: 'gas_price', type: 'decimal_string', nullable: true },
  { name: 'max_fee_per_gas', type: 'decimal_string', nullable: true },
  { name: 'max_priority_fee_per_gas', type: 'decimal_string', nullable: true },
  /** Full calldata, never truncated: decoders downstream need all of it. */
  { name: 'input', type: 'string' },
  { name: 'transaction_type', type: 'int32' },
  // From the transaction's receipt (transactions_v2 on): named as in ethereum-etl's tables.
  /** 1 success, 0 failure (reverted: no logs); null before Byzantium, whose receipts carry a state root. */
  { name: 'receipt_status', type: 'int32', nullable: true },
  { name: 'receipt_gas_used', type: 'int64' },
  { name: 'receipt_cumulative_gas_used', type: 'int64' },
  /** Wei per gas actually paid; null where the node omits it (older nodes, before London). */
  { name: 'receipt_effective_gas_price', type: 'decimal_string', nullable: true },
  /** The created contract, for a contract creation (then to_address is null). */
  { name: 'receipt_contract_address', type: 'string', nullable: true },
];

export const logsSchema: ParquetSchema = [
  { name: 'block_number', type: 'int64' },
  { name: 'block_timestamp', type: 'timestamp' },
  { name: 'block_hash', type: 'string' },
  { name: 'transaction_hash', type: 'string' },
  { name: 'transaction_index', type: 'int32' },
  { name: 'log_index', type: 'int32' },
  { name: 'address', type: 'string' },
  /** Positional topics; null where the log has fewer (LOG0…LOG4). */
  { name: 'topic0', type: 'string', nullable: true },
  { name: 'topic1', type: 'string', nullable: true },
  { name: 'topic2', type: 'string', nullable: true },
  { name: 'topic3', type: 'string', nullable: true },
  { name: 'data', type: 'string' },
];
