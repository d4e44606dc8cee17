// Nodes cap eth_getLogs (by results or by block range). getLogsInRange halves a refused
// range until the node answers instead of retrying the same request, keeps a refused range
// for later queries, and reads a single block over the result cap from its receipts.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, test } from 'node:test';
import { EthereumRpc } from '../../../adapters/ethereum/ethereumRpc.ts';
import { JsonRpcClient } from '../../../adapters/ethereum/jsonRpcClient.ts';
import { RpcError, isRetryableRpcError } from '../../../adapters/ethereum/rpcErrors.ts';

const hashOf = (n: number): string => `0x${n.toString(16).padStart(64, '0')}`;
const quantity = (n: number): string => `0x${n.toString(16)}`;
/** Block 13 holds 7 logs in three transactions; every other block one. */
const logCount = (block: number): number => (block === 13 ? 7 : 1);
const transactionOf = (block: number, logIndex: number): number => block * 100 + (logIndex % 3);

function logsOf(block: number): Record<string, unknown>[] {
  return Array.from({ length: logCount(block) }, (_, i) => ({
    address: `0x${'1'.repeat(40)}`,
    topics: [hashOf(i)],
    data: '0x',
    blockNumber: quantity(block),
    blockHash: hashOf(block),
    transactionHash: hashOf(transactionOf(block, i)),
    transactionIndex: quantity(i % 3),
    logIndex: quantity(i),
    removed: false,
  }));
}

function receiptsOf(block: number): Record<string, unknown>[] {
  const hashes = [...new Set(logsOf(block).map((log) => log.transactionHash as string))];
  return hashes.map((transactionHash) => ({
    transactionHash,
    blockNumber: quantity(block),
    blockHash: hashOf(block),
    status: '0x1',
    logs: logsOf(block).filter((log) => log.transactionHash === transactionHash),
  }));
}

type Call = { id: number; method: string; params: unknown[] };
/** How the scripted node caps eth_getLogs, and whether it has eth_getBlockReceipts. */
const node = { maxRange: Infinity, maxResults: Infinity, blockReceipts: true, badBlock: -1 };
const queries: [number, number][] = [];
const methods: string[] = [];

function answer(call: Call): Record<string, unknown> {
  const reply = (result: unknown): Record<string, unknown> => ({ jsonrpc: '2.0', id: call.id, result });
  const refuse = (code: number, message: string): Record<string, unknown> => ({
    jsonrpc: '2.0',
    id: call.id,
    error: { code, message },
  });
  methods.push(call.method);
  if (call.method === 'eth_getLogs') {
    const filter = call.params[0] as { fromBlock: string; toBlock: string };
    const [from, to] = [Number(filter.fromBlock), Number(filter.toBlock)];
    queries.push([from, to]);
    if (from <= node.badBlock && to >= node.badBlock) return refuse(-32602, `bad block ${node.badBlock}`);
    if (to - from + 1 > node.maxRange)
      return refuse(-32600, `eth_getLogs is limited to a ${node.maxRange} block range`);
    const logs = Array.from({ length: to - from + 1 }, (_, i) => logsOf(from + i)).flat();
    if (logs.length > node.maxResults)
      return refuse(-32005, `query returned more than ${node.maxResults} results`);
    return reply(logs);
  }
  const block = Number(call.params[0]);
  if (call.method === 'eth_getBlockReceipts') {
    return node.blockReceipts
      ? reply(receiptsOf(block))
      : refuse(-32601, 'the method eth_getBlockReceipts does not exist/is not available');
  }
  if (call.method === 'eth_getBlockByNumber') {
    return reply({ number: quantity(block), transactions: receiptsOf(block).map((r) => r.transactionHash) });
  }
  if (call.method === 'eth_getTransactionReceipt') {
    const hash = call.params[0] as string;
    return reply(receiptsOf(Math.floor(Number(hash) / 100)).find((r) => r.transactionHash === hash) ?? null);
  }
  return refuse(-32601, 'method not found');
}

let server: Server;
let url: string;

before(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const request = JSON.parse(body) as Call | Call[];
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(Array.isArray(request) ? request.map(answer) : answer(request)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v3/secret-key`;
});

after(() => {
  server.closeAllConnections();
  server.close();
});

beforeEach(() => {
  Object.assign(node, { maxRange: Infinity, maxResults: Infinity, blockReceipts: true, badBlock: -1 });
  queries.length = 0;
  methods.length = 0;
});

function rpc(maxLogsBlockRange = 0): EthereumRpc {
  return new EthereumRpc(
    new JsonRpcClient({ url, backoff: { baseDelayMs: 1, maxDelayMs: 2, jitter: true } }),
    {
      maxLogsBlockRange,
    },
  );
}

const allLogs = (from: number, to: number): unknown[] =>
  Array.from({ length: to - from + 1 }, (_, i) => logsOf(from + i))
    .flat()
    .map((log) => [Number(log.blockNumber), Number(log.logIndex), log.transactionHash]);
const summary = (logs: { blockNumber: number; logIndex: number; transactionHash: string }[]): unknown[] =>
  logs.map((log) => [log.blockNumber, log.logIndex, log.transactionHash]);

test('a range refused for its results is halved until every piece is answered, in block order', async () => {
  node.maxResults = 4;
  const logs = await rpc().getLogsInRange(0, 11);
  assert.deepEqual(summary(logs), allLogs(0, 11));
  // 0-11 refused → 0-5 refused → 0-2, 3-5 → 6-11 refused → 6-8, 9-11: never the same range twice.
  assert.deepEqual(queries, [
    [0, 11],
    [0, 5],
    [0, 2],
    [3, 5],
    [6, 11],
    [6, 8],
    [9, 11],
  ]);
});

test('a refused range is remembered: later queries start narrow enough', async () => {
  node.maxRange = 4;
  const client = rpc();
  assert.deepEqual(summary(await client.getLogsInRange(0, 11)), allLogs(0, 11));
  assert.deepEqual(queries, [
    [0, 11],
    [0, 5],
    [0, 2],
    [3, 5],
    [6, 8],
    [9, 11],
  ]);
  assert.equal(client.maxLogsBlockRange, 3);
  queries.length = 0;
  await client.getLogsInRange(20, 29);
  assert.deepEqual(queries, [
    [20, 22],
    [23, 25],
    [26, 28],
    [29, 29],
  ]);
});

test('the configured range cuts queries before the node has to refuse one', async () => {
  await rpc(5).getLogsInRange(0, 11);
  assert.deepEqual(queries, [
    [0, 4],
    [5, 9],
    [10, 11],
  ]);
});

test('a single block over the result cap is read from its receipts, with the same logs', async () => {
  node.maxResults = 5;
  const logs = await rpc().getLogsInRange(12, 14);
  assert.deepEqual(summary(logs), allLogs(12, 14));
  assert.ok(methods.includes('eth_getBlockReceipts'));
  assert.deepEqual(
    logs.filter((log) => log.blockNumber === 13).map((log) => log.logIndex),
    [0, 1, 2, 3, 4, 5, 6],
    'in log-index order, though receipts group them by transaction',
  );
});

test('without eth_getBlockReceipts, receipts come per transaction, and the method is not asked for again', async () => {
  node.maxResults = 5;
  node.blockReceipts = false;
  const client = rpc();
  assert.deepEqual(summary(await client.getLogsInRange(13, 13)), allLogs(13, 13));
  assert.deepEqual(methods, [
    'eth_getLogs',
    'eth_getBlockReceipts',
    'eth_getBlockByNumber',
    'eth_getTransactionReceipt',
    'eth_getTransactionReceipt',
    'eth_getTransactionReceipt',
  ]);
  methods.length = 0;
  assert.deepEqual(summary(await client.getLogsInRange(13, 13)), allLogs(13, 13));
  assert.ok(!methods.includes('eth_getBlockReceipts'));
});

test('a single block the node refuses for another reason is an error, not an endless split', async () => {
  node.badBlock = 13;
  await assert.rejects(
    rpc().getLogsInRange(12, 14),
    (e: unknown) =>
      e instanceof RpcError &&
      /bad block 13/.test(e.message) &&
      /http:\/\/127\.0\.0\.1:\d+\)/.test(e.message),
  );
  assert.ok(!methods.includes('eth_getBlockReceipts'));
});

test('"limit exceeded" is retried when it is a rate limit, not when the query is too large', () => {
  const cases: { code: number; message: string; retryable: boolean }[] = [
    { code: -32005, message: 'daily request count exceeded, request rate limited', retryable: true },
    { code: -32005, message: 'query returned more than 10000 results', retryable: false },
    { code: -32005, message: 'Log response size exceeded', retryable: false },
    { code: -32603, message: 'internal error', retryable: true },
    { code: -32602, message: 'invalid params', retryable: false },
    { code: 3, message: 'execution reverted', retryable: false },
  ];
  for (const { code, message, retryable } of cases)
    assert.equal(isRetryableRpcError(code, message), retryable, message);
});
