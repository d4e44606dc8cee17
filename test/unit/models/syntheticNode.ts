// A scripted JSON-RPC node on 127.0.0.1 serving a synthetic chain with the shapes ingest must
// handle: legacy, EIP-1559 and contract-creating transactions, reverted ones, receipts
// before Byzantium (a state root, no status) and before London (no effective gas price),
// logs with 0 to 4 topics, wei amounts of 2^127 and more, and upper-case hex. `corrupt` rewrites an answer
// (garbage, a reorg); `missingMethods` are refused as a node without them would.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const hashOf = (n: number | bigint): string => `0x${n.toString(16).padStart(64, '0')}`;
const hex = (n: number | bigint): string => `0x${n.toString(16)}`;
const addressOf = (n: number): string => `0x${n.toString(16).padStart(40, '0')}`;
export const upperHex = (value: string): string => `0x${value.slice(2).toUpperCase()}`;

/** Blocks below are pre-Byzantium (receipts carry `root`), below LONDON pre-London. */
export const BYZANTIUM = 103;
export const LONDON = 105;
/** The block whose transactions carry 2^127 and 2^256 - 1 wei. */
export const WIDE_VALUES_BLOCK = 106;
/** The block whose hashes, addresses and data are upper-case hex (valid; stored lower-case). */
export const MIXED_CASE_BLOCK = 107;
export const TIMESTAMP_OF = (n: number): number => 1_727_740_800 + n * 12;

export interface SyntheticTransaction {
  tx: Record<string, unknown>;
  receipt: Record<string, unknown>;
}

function transactionsOf(n: number): SyntheticTransaction[] {
  const blockHash = hashOf(n + 1);
  const count = n % 4; // 0 to 3 transactions
  const result: SyntheticTransaction[] = [];
  let cumulative = 0;
  let logIndex = 0;
  const cased = (value: string): string => (n === MIXED_CASE_BLOCK ? upperHex(value) : value);
  for (let i = 0; i < count; i++) {
    const hash = cased(hashOf(1_000_000 + n * 10 + i));
    const kind = (n + i) % 3; // 0 legacy call, 1 EIP-1559 call, 2 contract creation
    const reverted = (n + i) % 5 === 4;
    const wide = n === WIDE_VALUES_BLOCK;
    const value = wide ? (i === 0 ? 2n ** 127n : 2n ** 256n - 1n) : BigInt(n * 1_000 + i) * 10n ** 15n;
    const tx: Record<string, unknown> = {
      hash,
      blockHash,
      blockNumber: hex(n),
      transactionIndex: hex(i),
      from: cased(addressOf(0xaaaa + i)),
      to: kind === 2 ? null : cased(addressOf(0xbbbb + n)),
      value: hex(value),
      nonce: hex(n * 3 + i),
      gas: hex(100_000 + i),
      input: cased(kind === 2 ? '0x6080604052' : `0xa9059cbb${'00'.repeat(i * 7)}`),
      type: hex(kind === 1 ? 2 : 0),
      v: '0x1b',
      r: hashOf(5),
      s: hashOf(6),
    };
    if (kind === 1) {
      tx.maxFeePerGas = hex(wide ? 2n ** 128n + 5n : 30_000_000_000n);
      tx.maxPriorityFeePerGas = hex(1_000_000_000n);
      tx.gasPrice = hex(12_000_000_000n);
    } else {
      tx.gasPrice = hex(wide ? 2n ** 200n : 20_000_000_000n);
    }
    const logs = reverted
      ? []
      : Array.from({ length: (n + i) % 6 }, (_, j) => ({
          address: cased(addressOf(0xcccc + j)),
          topics: Array.from({ length: j % 5 }, (_, t) => cased(hashOf(BigInt(n) * 1000n + BigInt(t)))),
          data: cased(`0x${'ab'.repeat(j * 16)}`),
          blockNumber: hex(n),
          blockHash,
          transactionHash: hash,
          transactionIndex: hex(i),
          logIndex: hex(logIndex++),
          removed: false,
        }));
    const gasUsed = 21_000 + i * 1_000;
    cumulative += gasUsed;
    const receipt: Record<string, unknown> = {
      transactionHash: hash,
      transactionIndex: hex(i),
      blockHash,
      blockNumber: hex(n),
      from: tx.from,
      to: tx.to,
      gasUsed: hex(gasUsed),
      cumulativeGasUsed: hex(cumulative),
      contractAddress: kind === 2 ? cased(addressOf(0xdddd + n)) : null,
      logs,
      logsBloom: `0x${'0'.repeat(512)}`,
      type: tx.type,
    };
    if (n < BYZANTIUM) receipt.root = hashOf(77);
    else receipt.status = reverted ? '0x0' : '0x1';
    if (n >= LONDON) receipt.effectiveGasPrice = hex(wide ? 2n ** 130n : 15_000_000_000n);
    result.push({ tx, receipt });
  }
  return result;
}

export function blockOf(n: number): Record<string, unknown> {
  const block: Record<string, unknown> = {
    number: hex(n),
    hash: hashOf(n + 1),
    parentHash: hashOf(n),
    timestamp: hex(TIMESTAMP_OF(n)),
    miner: addressOf(0xeeee),
    gasLimit: hex(30_000_000),
    gasUsed: hex(21_000 * (n % 4)),
    logsBloom: `0x${'0'.repeat(512)}`,
    transactions: transactionsOf(n).map(({ tx }) => tx),
  };
  if (n >= LONDON) block.baseFeePerGas = hex(n === WIDE_VALUES_BLOCK ? 2n ** 127n - 1n : 7);
  return block;
}

export function receiptsOf(n: number): Record<string, unknown>[] {
  return transactionsOf(n).map(({ receipt }) => receipt);
}

interface Call {
  id: number;
  method: string;
  params: unknown[];
}

export interface SyntheticNodeOptions {
  tip: number;
  /** Rewrites an answer's result before it is sent (the call and the result as it would be). */
  corrupt?: (call: Call, result: unknown) => unknown;
  missingMethods?: readonly string[];
}

export interface SyntheticNode {
  url: string;
  /** Calls answered, by method. */
  calls: Map<string, number>;
  options: SyntheticNodeOptions;
  close(): void;
}

function resultOf(call: Call, tip: number): unknown {
  switch (call.method) {
    case 'eth_blockNumber':
      return hex(tip);
    case 'eth_getBlockByNumber': {
      const n = Number(call.params[0]);
      if (n > tip) return null;
      const block = blockOf(n);
      return call.params[1] === true
        ? block
        : { ...block, transactions: (block.transactions as { hash: string }[]).map((tx) => tx.hash) };
    }
    case 'eth_getBlockReceipts': {
      const n = Number(call.params[0]);
      return n > tip ? null : receiptsOf(n);
    }
    case 'eth_getTransactionReceipt': {
      const hash = String(call.params[0]);
      const n = Math.floor((Number(BigInt(hash)) - 1_000_000) / 10);
      // Hex is a number: a hash asked for in lower case finds one served in upper case.
      return (
        receiptsOf(n).find((receipt) => BigInt(String(receipt.transactionHash)) === BigInt(hash)) ?? null
      );
    }
    case 'eth_getLogs': {
      const filter = call.params[0] as { fromBlock: string; toBlock: string };
      const logs: unknown[] = [];
      for (let n = Number(filter.fromBlock); n <= Number(filter.toBlock); n++) {
        for (const receipt of receiptsOf(n)) logs.push(...(receipt.logs as unknown[]));
      }
      return logs;
    }
    default:
      return undefined;
  }
}

export async function startSyntheticNode(options: SyntheticNodeOptions): Promise<SyntheticNode> {
  const calls = new Map<string, number>();
  const node = { calls, options } as SyntheticNode;
  const answer = (call: Call): unknown => {
    calls.set(call.method, (calls.get(call.method) ?? 0) + 1);
    const base = { jsonrpc: '2.0', id: call.id };
    const result = resultOf(call, node.options.tip);
    if (result === undefined || node.options.missingMethods?.includes(call.method)) {
      return { ...base, error: { code: -32601, message: `the method ${call.method} does not exist` } };
    }
    return { ...base, result: node.options.corrupt ? node.options.corrupt(call, result) : result };
  };
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const parsed = JSON.parse(body) as Call | Call[];
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(Array.isArray(parsed) ? parsed.map(answer) : answer(parsed)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  node.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  node.close = () => {
    server.closeAllConnections();
    server.close();
  };
  return node;
}
