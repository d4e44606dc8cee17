// Validation of what a node returns, field by field, into plain typed objects.
// Addresses and hashes are lower-cased so joins and comparisons never depend on a
// node's checksum casing; wei amounts stay exact as decimal strings.
import { invalidResponse } from './rpcErrors.ts';

export interface RpcTransaction {
  hash: string;
  blockNumber: number;
  transactionIndex: number;
  from: string;
  /** null for contract creation. */
  to: string | null;
  /** Wei, exact decimal. */
  value: string;
  nonce: number;
  gas: number;
  /** Wei, exact decimal; null when the node omits it. */
  gasPrice: string | null;
  maxFeePerGas: string | null;
  maxPriorityFeePerGas: string | null;
  input: string;
  type: number;
}

export interface RpcBlock {
  number: number;
  hash: string;
  parentHash: string;
  /** Unix seconds. */
  timestamp: number;
  miner: string;
  gasLimit: number;
  gasUsed: number;
  /** Wei, exact decimal; null before London. */
  baseFeePerGas: string | null;
  transactions: RpcTransaction[];
}

/** A transaction's receipt (`eth_getBlockReceipts`, `eth_getTransactionReceipt`). */
export interface RpcReceipt {
  transactionHash: string;
  transactionIndex: number;
  blockHash: string;
  blockNumber: number;
  /** 1 success, 0 failure; null before Byzantium, where a receipt carries a state root instead. */
  status: number | null;
  gasUsed: number;
  cumulativeGasUsed: number;
  /** Wei, exact decimal; null where the node omits it (older nodes, before London). */
  effectiveGasPrice: string | null;
  /** The created contract, for a contract creation. */
  contractAddress: string | null;
  logs: RpcLog[];
}

export interface RpcLog {
  address: string;
  topics: string[];
  data: string;
  blockNumber: number;
  blockHash: string;
  transactionHash: string;
  transactionIndex: number;
  logIndex: number;
  removed: boolean;
}

const QUANTITY = /^0x[0-9a-fA-F]{1,64}$/;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const HASH = /^0x[0-9a-fA-F]{64}$/;
const DATA = /^0x(?:[0-9a-fA-F]{2})*$/;

type FieldReader = { method: string; path: string };

function asObject(value: unknown, at: FieldReader): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidResponse(at.method, `${at.path} must be an object`, value);
  }
  return value as Record<string, unknown>;
}

/** A hex quantity that must fit a JS number exactly (block numbers, gas, indexes). */
export function quantityToNumber(value: unknown, at: FieldReader): number {
  if (typeof value !== 'string' || !QUANTITY.test(value)) {
    throw invalidResponse(at.method, `${at.path} must be a hex quantity`, value);
  }
  const number = Number.parseInt(value.slice(2), 16);
  if (!Number.isSafeInteger(number)) throw invalidResponse(at.method, `${at.path} exceeds 2^53`, value);
  return number;
}

/** A hex quantity of any size (wei) as an exact decimal string. */
export function quantityToDecimal(value: unknown, at: FieldReader): string {
  if (typeof value !== 'string' || !QUANTITY.test(value)) {
    throw invalidResponse(at.method, `${at.path} must be a hex quantity`, value);
  }
  return BigInt(value).toString();
}

function optionalQuantityToDecimal(value: unknown, at: FieldReader): string | null {
  return value === undefined || value === null ? null : quantityToDecimal(value, at);
}

export function toAddress(value: unknown, at: FieldReader): string {
  if (typeof value !== 'string' || !ADDRESS.test(value)) {
    throw invalidResponse(at.method, `${at.path} must be a 20-byte address`, value);
  }
  return value.toLowerCase();
}

export function toHash(value: unknown, at: FieldReader): string {
  if (typeof value !== 'string' || !HASH.test(value)) {
    throw invalidResponse(at.method, `${at.path} must be a 32-byte hash`, value);
  }
  return value.toLowerCase();
}

export function toData(value: unknown, at: FieldReader): string {
  if (typeof value !== 'string' || !DATA.test(value)) {
    throw invalidResponse(at.method, `${at.path} must be hex data`, value);
  }
  return value.toLowerCase();
}

function sub(at: FieldReader, key: string): FieldReader {
  return { method: at.method, path: `${at.path}.${key}` };
}

export function parseTransaction(value: unknown, at: FieldReader): RpcTransaction {
  const tx = asObject(value, at);
  const to = tx.to;
  const type = tx.type;
  return {
    hash: toHash(tx.hash, sub(at, 'hash')),
    blockNumber: quantityToNumber(tx.blockNumber, sub(at, 'blockNumber')),
    transactionIndex: quantityToNumber(tx.transactionIndex, sub(at, 'transactionIndex')),
    from: toAddress(tx.from, sub(at, 'from')),
    to: to === undefined || to === null ? null : toAddress(to, sub(at, 'to')),
    value: quantityToDecimal(tx.value, sub(at, 'value')),
    nonce: quantityToNumber(tx.nonce, sub(at, 'nonce')),
    gas: quantityToNumber(tx.gas, sub(at, 'gas')),
    gasPrice: optionalQuantityToDecimal(tx.gasPrice, sub(at, 'gasPrice')),
    maxFeePerGas: optionalQuantityToDecimal(tx.maxFeePerGas, sub(at, 'maxFeePerGas')),
    maxPriorityFeePerGas: optionalQuantityToDecimal(tx.maxPriorityFeePerGas, sub(at, 'maxPriorityFeePerGas')),
    input: toData(tx.input, sub(at, 'input')),
    type: type === undefined || type === null ? 0 : quantityToNumber(type, sub(at, 'type')),
  };
}

/** A block without its transactions (`eth_getBlockByNumber(n, false)`). */
export type RpcBlockHeader = Omit<RpcBlock, 'transactions'>;

export function parseBlockHeader(value: unknown, method = 'eth_getBlockByNumber'): RpcBlockHeader {
  const at = { method, path: 'block' };
  const block = asObject(value, at);
  return {
    number: quantityToNumber(block.number, sub(at, 'number')),
    hash: toHash(block.hash, sub(at, 'hash')),
    parentHash: toHash(block.parentHash, sub(at, 'parentHash')),
    timestamp: quantityToNumber(block.timestamp, sub(at, 'timestamp')),
    miner: toAddress(block.miner, sub(at, 'miner')),
    gasLimit: quantityToNumber(block.gasLimit, sub(at, 'gasLimit')),
    gasUsed: quantityToNumber(block.gasUsed, sub(at, 'gasUsed')),
    baseFeePerGas: optionalQuantityToDecimal(block.baseFeePerGas, sub(at, 'baseFeePerGas')),
  };
}

/** `eth_getBlockByNumber(n, true)`: the header and every transaction in full. */
export function parseBlock(value: unknown, method = 'eth_getBlockByNumber'): RpcBlock {
  const header = parseBlockHeader(value, method);
  const transactions = (value as Record<string, unknown>).transactions;
  if (!Array.isArray(transactions))
    throw invalidResponse(method, 'block.transactions must be an array', transactions);
  const parsed: RpcBlock = {
    ...header,
    transactions: transactions.map((tx, i) =>
      parseTransaction(tx, { method, path: `block.transactions[${i}]` }),
    ),
  };
  for (const tx of parsed.transactions) {
    if (tx.blockNumber !== parsed.number) {
      throw invalidResponse(method, `transaction ${tx.hash} claims block ${tx.blockNumber}`, parsed.number);
    }
  }
  return parsed;
}

export function parseLog(value: unknown, at: FieldReader): RpcLog {
  const log = asObject(value, at);
  const topics = log.topics;
  if (!Array.isArray(topics) || topics.length > 4) {
    throw invalidResponse(at.method, `${at.path}.topics must be an array of at most 4 hashes`, topics);
  }
  return {
    address: toAddress(log.address, sub(at, 'address')),
    topics: topics.map((topic, i) => toHash(topic, sub(at, `topics[${i}]`))),
    data: toData(log.data, sub(at, 'data')),
    blockNumber: quantityToNumber(log.blockNumber, sub(at, 'blockNumber')),
    blockHash: toHash(log.blockHash, sub(at, 'blockHash')),
    transactionHash: toHash(log.transactionHash, sub(at, 'transactionHash')),
    transactionIndex: quantityToNumber(log.transactionIndex, sub(at, 'transactionIndex')),
    logIndex: quantityToNumber(log.logIndex, sub(at, 'logIndex')),
    removed: log.removed === true,
  };
}

export function parseLogs(value: unknown, method = 'eth_getLogs'): RpcLog[] {
  if (!Array.isArray(value)) throw invalidResponse(method, 'result must be an array of logs', value);
  return value.map((log, i) => parseLog(log, { method, path: `logs[${i}]` }));
}

/** One receipt: its fields and its logs, validated as `parseLog` validates a log. */
export function parseReceipt(value: unknown, at: FieldReader): RpcReceipt {
  const receipt = asObject(value, at);
  const status =
    receipt.status === undefined || receipt.status === null
      ? null
      : quantityToNumber(receipt.status, sub(at, 'status'));
  if (status !== null && status !== 0 && status !== 1) {
    throw invalidResponse(at.method, `${at.path}.status must be 0x0 or 0x1`, receipt.status);
  }
  const contractAddress = receipt.contractAddress;
  if (!Array.isArray(receipt.logs))
    throw invalidResponse(at.method, `${at.path}.logs must be an array`, receipt.logs);
  return {
    transactionHash: toHash(receipt.transactionHash, sub(at, 'transactionHash')),
    transactionIndex: quantityToNumber(receipt.transactionIndex, sub(at, 'transactionIndex')),
    blockHash: toHash(receipt.blockHash, sub(at, 'blockHash')),
    blockNumber: quantityToNumber(receipt.blockNumber, sub(at, 'blockNumber')),
    status,
    gasUsed: quantityToNumber(receipt.gasUsed, sub(at, 'gasUsed')),
    cumulativeGasUsed: quantityToNumber(receipt.cumulativeGasUsed, sub(at, 'cumulativeGasUsed')),
    effectiveGasPrice: optionalQuantityToDecimal(receipt.effectiveGasPrice, sub(at, 'effectiveGasPrice')),
    contractAddress:
      contractAddress === undefined || contractAddress === null
        ? null
        : toAddress(contractAddress, sub(at, 'contractAddress')),
    logs: receipt.logs.map((log, i) => parseLog(log, sub(at, `logs[${i}]`))),
  };
}

/**
 * The receipts of one block, in the order given, each claiming that block (number) and its
 * logs too. Whether they match the block's transactions is the caller's check.
 */
export function parseBlockReceipts(
  receipts: readonly unknown[],
  blockNumber: number,
  method: string,
): RpcReceipt[] {
  return receipts.map((value, i) => {
    const receipt = parseReceipt(value, { method, path: `receipts[${i}]` });
    const claimed = [receipt.blockNumber, ...receipt.logs.map((log) => log.blockNumber)];
    if (claimed.some((number) => number !== blockNumber)) {
      throw invalidResponse(method, `receipts[${i}] of block ${blockNumber} claims another block`, claimed);
    }
    return receipt;
  });
}

/**
 * The logs of one block from its receipts (`eth_getBlockReceipts`, or one
 * `eth_getTransactionReceipt` per transaction), in log-index order: what `eth_getLogs`
 * returns for that block. A missing receipt means a node behind its peers.
 */
export function parseReceiptLogs(
  receipts: readonly unknown[],
  blockNumber: number,
  method: string,
): RpcLog[] {
  const logs: RpcLog[] = [];
  receipts.forEach((value, i) => {
    const receipt = asObject(value, { method, path: `receipts[${i}]` });
    if (!Array.isArray(receipt.logs)) {
      throw invalidResponse(method, `receipts[${i}].logs must be an array`, receipt.logs);
    }
    receipt.logs.forEach((log, j) => logs.push(parseLog(log, { method, path: `receipts[${i}].logs[${j}]` })));
  });
  for (const log of logs) {
    if (log.blockNumber !== blockNumber) {
      throw invalidResponse(
        method,
        `log of block ${blockNumber} claims block ${log.blockNumber}`,
        log.blockNumber,
      );
    }
  }
  return logs.sort((a, b) => a.logIndex - b.logIndex);
}

/** `eth_getBlockByNumber(n, false)`: the hashes of the block's transactions, in order. */
export function parseTransactionHashes(value: unknown, method = 'eth_getBlockByNumber'): string[] {
  const block = asObject(value, { method, path: 'block' });
  if (!Array.isArray(block.transactions)) {
    throw invalidResponse(method, 'block.transactions must be an array', block.transactions);
  }
  return block.transactions.map((hash, i) => toHash(hash, { method, path: `block.transactions[${i}]` }));
}
