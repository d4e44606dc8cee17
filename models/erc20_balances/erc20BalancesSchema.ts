import type { ParquetSchema } from '../../dataplane/parquetSchema.ts';

export const erc20BalancesSchema: ParquetSchema = [
  /** The batch's last block: the balance is as of the end of it. */
  { name: 'block_number', type: 'int64' },
  { name: 'block_timestamp', type: 'timestamp' },
  { name: 'token_address', type: 'string' },
  { name: 'holder_address', type: 'string' },
  /** uint256, exact, in the token's smallest unit. */
  { name: 'balance', type: 'decimal_string' },
  /** null when the token has no working decimals() / symbol(). */
  { name: 'decimals', type: 'int32', nullable: true },
  { name: 'symbol', type: 'string', nullable: true },
];
