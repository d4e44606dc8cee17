// The fast path of erc20_transfers: the whole decode as DuckDB SQL over the ingestion
// logs parquet, so rows never enter JS. The rules are exactly decodeTransferLog's
// (models/abi/erc20TransferLog.ts); a test runs both over the same logs and compares.
import { ERC20_TRANSFER_TOPIC, type TransferSkipReason } from '../abi/erc20TransferLog.ts';
import {
  bigUint256ToDecimalSql,
  smallUint256ToDecimalSql,
  uint256FitsHugeintSql,
} from './uint256DecimalSql.ts';

/** An indexed address: 0x, 12 zero bytes, the 20 address bytes. */
const ADDRESS_TOPIC_PREFIX = `0x${'0'.repeat(24)}`;

/**
 * Why a log whose topic0 is Transfer is not an ERC-20 transfer (NULL when it is), in
 * decodeTransferLog's order. Only the data's length is checked: ingestion validated it
 * as hex (adapters/ethereum/rpcShapes.ts), and a non-hex digit in a lake file is a
 * corrupt file, which fails the batch in both decoders rather than being skipped.
 */
function skipReasonSql(): string {
  return `CASE
    WHEN topic1 IS NULL OR topic2 IS NULL OR topic3 IS NOT NULL THEN 'wrong_topic_count'
    WHEN length(data) <> 66 THEN 'wrong_data_length'
    WHEN NOT starts_with(topic1, '${ADDRESS_TOPIC_PREFIX}') OR NOT starts_with(topic2, '${ADDRESS_TOPIC_PREFIX}')
      THEN 'malformed_address'
    ELSE NULL END`;
}

/** The same test as a WHERE clause the planner can evaluate cheaply (no CASE). */
const IS_TRANSFER = `topic1 IS NOT NULL AND topic2 IS NOT NULL AND topic3 IS NULL AND length(data) = 66
  AND starts_with(topic1, '${ADDRESS_TOPIC_PREFIX}') AND starts_with(topic2, '${ADDRESS_TOPIC_PREFIX}')`;

/**
 * A SELECT of the output columns, in schema order, from a FROM-able `logsSource` (e.g.
 * `read_parquet([...])`) with the ingestion logs columns, in the source's order (ingestion
 * files are ordered by block and log index). One scan: values below 2^127 take the HUGEINT
 * path, and the long division's stages (see uint256DecimalSql.ts) see only the others, being
 * NULL for the rest. No UNION and no ORDER BY, so nothing is held: a batch's transfers stream
 * to the parquet writer in bounded memory.
 */
export function erc20TransfersSql(logsSource: string): string {
  const valueHex = 'substr(data, 3)';
  const fits = uint256FitsHugeintSql(valueHex);
  const transfers = `SELECT block_number, block_timestamp, transaction_hash, log_index, lower(address) AS token_address,
      '0x' || lower(substr(topic1, 27)) AS from_address, '0x' || lower(substr(topic2, 27)) AS to_address,
      ${valueHex} AS value_hex, ${fits} AS value_fits, CASE WHEN ${fits} THEN NULL ELSE ${valueHex} END AS wide_hex
    FROM ${logsSource} WHERE topic0 = '${ERC20_TRANSFER_TOPIC}' AND ${IS_TRANSFER}`;
  return `SELECT block_number, block_timestamp, transaction_hash, log_index, token_address, from_address, to_address,
      CASE WHEN value_fits THEN ${smallUint256ToDecimalSql('value_hex')} ELSE wide_value END AS value
    FROM (${bigUint256ToDecimalSql(transfers, 'wide_hex', 'wide_value')})`;
}

/** Counts of Transfer-topic logs that are not ERC-20 transfers, by reason. */
export function transferSkipCountsSql(logsSource: string): string {
  return `SELECT reason, count(*) AS logs FROM (
      SELECT ${skipReasonSql()} AS reason FROM ${logsSource} WHERE topic0 = '${ERC20_TRANSFER_TOPIC}'
    ) WHERE reason IS NOT NULL GROUP BY reason ORDER BY reason`;
}

export type SkipCounts = Record<TransferSkipReason, number>;
