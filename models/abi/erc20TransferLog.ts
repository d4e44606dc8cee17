// ERC-20 `Transfer(address indexed from, address indexed to, uint256 value)`.
// Other standards share the topic: ERC-721 indexes the token id too (4 topics, no
// data). Such logs only look like ERC-20 transfers; they are classified, not thrown.
import { AbiDecodeError, wordAt, wordToAddress, wordToBigInt } from './abiWords.ts';

/** keccak256("Transfer(address,address,uint256)") */
export const ERC20_TRANSFER_TOPIC = '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef';

const HEX_WORD = /^[0-9a-fA-F]{64}$/;

export type TransferSkipReason =
  | 'wrong_topic_count' // not exactly 3 topics (ERC-721 has 4)
  | 'wrong_data_length' // the value is not exactly one 32-byte word
  | 'malformed_address'; // an indexed address with non-zero padding

export const transferSkipReasons: readonly TransferSkipReason[] = [
  'wrong_topic_count',
  'wrong_data_length',
  'malformed_address',
];

export interface DecodedTransfer {
  from: string;
  to: string;
  /** Exact decimal string of the uint256. */
  value: string;
}

export type TransferDecoding =
  { ok: true; transfer: DecodedTransfer } | { ok: false; reason: TransferSkipReason };

export interface TransferLogInput {
  /** topic0 must already be ERC20_TRANSFER_TOPIC; callers select by it. */
  topics: readonly string[];
  data: string;
}

/**
 * Decodes a log whose topic0 is the Transfer topic. Strict on shape: the value must
 * be exactly one word, so the SQL path (erc20TransfersSql.ts) can apply the very same
 * rule and both agree row for row. Data that is not hex throws AbiDecodeError (both
 * paths fail on it: it is a corrupt input, not a log that looks like a transfer).
 */
export function decodeTransferLog(log: TransferLogInput): TransferDecoding {
  if (log.topics.length !== 3) return { ok: false, reason: 'wrong_topic_count' };
  if (log.data.length !== 66) return { ok: false, reason: 'wrong_data_length' };
  const from = wordToAddress(log.topics[1]!.slice(2).toLowerCase());
  const to = wordToAddress(log.topics[2]!.slice(2).toLowerCase());
  if (from === undefined || to === undefined) return { ok: false, reason: 'malformed_address' };
  const word = wordAt(log.data.slice(2), 0)!;
  // Not a look-alike but a corrupt input (nodes and ingestion only produce hex): fail loudly.
  if (!log.data.startsWith('0x') || !HEX_WORD.test(word))
    throw new AbiDecodeError(`log data is not hex: ${log.data}`);
  return { ok: true, transfer: { from, to, value: wordToBigInt(word).toString() } };
}
