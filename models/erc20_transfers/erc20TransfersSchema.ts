import type { ParquetSchema } from '../../dataplane/parquetSchema.ts';

export const erc20TransfersSchema: ParquetSchema = [
  { name: 'block_number', type: 'int64' },
  { name: 'block_timestamp', type: 'timestamp' },
  { name: 'transaction_hash', type: 'string' },
  { name: 'log_index', type: 'int32' },
  { name: 'token_address', type: 'string' },
  { name: 'from_address', type: 'string' },
  { name: 'to_address', type: 'string' },
  /** uint256, exact. */
  { name: 'value', type: 'decimal_string' },
];
