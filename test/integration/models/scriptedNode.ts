// A small scripted JSON-RPC node on 127.0.0.1 for batches whose block times anvil cannot give
// (anvil's clock is shared by every test, so it is not moved): blocks with chosen timestamps,
// ERC-20 Transfer logs at chosen blocks (with their transactions' receipts), and eth_call
// answers for one token.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ERC20_TRANSFER_TOPIC } from '../../../models/abi/erc20TransferLog.ts';

export const hashOf = (n: number): string => `0x${n.toString(16).padStart(64, '0')}`;
const hex = (n: number | bigint): string => `0x${n.toString(16)}`;
export const word = (value: bigint): string => value.toString(16).padStart(64, '0');

export interface NodeScript {
  /** Block n's timestamp, seconds. */
  timestampOf: (n: number) => number;
  /** The token every transfer is of. */
  token: string;
  /** Transfers by block: [from, to, value]. */
  transfers: Record<number, [string, string, bigint]>;
  /** The answer to an eth_call's data (default: method not found). */
  call?: (data: string) => { result?: string; error?: { code: number; message: string } };
  tip?: number;
}

export interface ScriptedNode {
  url: string;
  close(): void;
}

export async function startScriptedNode(script: NodeScript): Promise<ScriptedNode> {
  const block = (n: number): unknown => {
    const transfer = script.transfers[n];
    const transactions = transfer
      ? [
          {
            hash: hashOf(10_000 + n),
            blockNumber: hex(n),
            transactionIndex: '0x0',
            from: transfer[0],
            to: script.token,
            value: '0x0',
            nonce: '0x1',
            gas: '0x5208',
            gasPrice: '0x1',
            input: '0xa9059cbb',
            type: '0x0',
          },
        ]
      : [];
    return {
      number: hex(n),
      hash: hashOf(n + 1),
      parentHash: hashOf(n),
      timestamp: hex(script.timestampOf(n)),
      miner: `0x${'0'.repeat(40)}`,
      gasLimit: '0x1c9c380',
      gasUsed: '0x0',
      baseFeePerGas: '0x7',
      transactions,
    };
  };
  const logs = (from: number, to: number): unknown[] =>
    Object.entries(script.transfers)
      .filter(([n]) => Number(n) >= from && Number(n) <= to)
      .map(([n, [sender, receiver, value]]) => ({
        address: script.token,
        topics: [
          ERC20_TRANSFER_TOPIC,
          `0x${sender.slice(2).padStart(64, '0')}`,
          `0x${receiver.slice(2).padStart(64, '0')}`,
        ],
        data: `0x${word(value)}`,
        blockNumber: hex(Number(n)),
        blockHash: hashOf(Number(n) + 1),
        transactionHash: hashOf(10_000 + Number(n)),
        transactionIndex: '0x0',
        logIndex: '0x0',
        removed: false,
      }));
  const receipts = (n: number): unknown[] =>
    script.transfers[n]
      ? [
          {
            transactionHash: hashOf(10_000 + n),
            transactionIndex: '0x0',
            blockHash: hashOf(n + 1),
            blockNumber: hex(n),
            status: '0x1',
            gasUsed: '0x5208',
            cumulativeGasUsed: '0x5208',
            effectiveGasPrice: '0x1',
            contractAddress: null,
            logs: logs(n, n),
          },
        ]
      : [];
  const answer = (request: { id: number; method: string; params: unknown[] }): unknown => {
    const base = { jsonrpc: '2.0', id: request.id };
    switch (request.method) {
      case 'eth_blockNumber':
        return { ...base, result: hex(script.tip ?? 1_000) };
      case 'eth_getBlockByNumber':
        return { ...base, result: block(Number(request.params[0])) };
      case 'eth_getBlockReceipts':
        return { ...base, result: receipts(Number(request.params[0])) };
      case 'eth_getLogs': {
        const filter = request.params[0] as { fromBlock: string; toBlock: string };
        return { ...base, result: logs(Number(filter.fromBlock), Number(filter.toBlock)) };
      }
      case 'eth_call': {
        const data = (request.params[0] as { data: string }).data;
        return {
          ...base,
          ...(script.call?.(data) ?? { error: { code: -32601, message: 'method not found' } }),
        };
      }
      default:
        return { ...base, error: { code: -32601, message: 'method not found' } };
    }
  };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const parsed = JSON.parse(body) as Parameters<typeof answer>[0] | Parameters<typeof answer>[0][];
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(Array.isArray(parsed) ? parsed.map(answer) : answer(parsed)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close() {
      server.closeAllConnections();
      server.close();
    },
  };
}
