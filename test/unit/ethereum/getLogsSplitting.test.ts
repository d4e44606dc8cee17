// Nodes cap eth_getLogs (results or block range). ingest halves a refused range until
// the node answers, instead of retrying the same request.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { EthereumRpc } from '../../../adapters/ethereum/ethereumRpc.ts';
import { JsonRpcClient } from '../../../adapters/ethereum/jsonRpcClient.ts';
import { RpcError, isRetryableRpcError } from '../../../adapters/ethereum/rpcErrors.ts';
import { getLogsSplitting } from '../../../models/ingest/ingestModel.ts';

const hashOf = (n: number): string => `0x${n.toString(16).padStart(64, '0')}`;
let server: Server;
let url: string;
const ranges: [number, number][] = [];
/** The node refuses ranges wider than this many blocks; block 13 always fails. */
const MAX_RANGE = 4;

before(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const request = JSON.parse(body) as { id: number; params: [{ fromBlock: string; toBlock: string }] };
      const from = Number(request.params[0].fromBlock);
      const to = Number(request.params[0].toBlock);
      ranges.push([from, to]);
      res.writeHead(200, { 'content-type': 'application/json' });
      if (from <= 13 && to >= 13) {
        res.end(
          JSON.stringify({
            jsonrpc: '2.0',
            id: request.id,
            error: { code: -32602, message: 'bad block 13' },
          }),
        );
      } else if (to - from + 1 > MAX_RANGE) {
        const error = { code: -32005, message: 'query returned more than 10000 results' };
        res.end(JSON.stringify({ jsonrpc: '2.0', id: request.id, error }));
      } else {
        const logs = Array.from({ length: to - from + 1 }, (_, i) => ({
          address: `0x${'1'.repeat(40)}`,
          topics: [],
          data: '0x',
          blockNumber: `0x${(from + i).toString(16)}`,
          blockHash: hashOf(from + i),
          transactionHash: hashOf(1000 + from + i),
          transactionIndex: '0x0',
          logIndex: '0x0',
        }));
        res.end(JSON.stringify({ jsonrpc: '2.0', id: request.id, result: logs }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => {
  server.closeAllConnections();
  server.close();
});

test('a refused range is halved until every piece is answered, in block order', async () => {
  ranges.length = 0;
  const rpc = new EthereumRpc(
    new JsonRpcClient({ url, backoff: { baseDelayMs: 1, maxDelayMs: 2, jitter: true } }),
  );
  const logs = await getLogsSplitting(rpc, 0, 11);
  assert.deepEqual(
    logs.map((log) => log.blockNumber),
    Array.from({ length: 12 }, (_, i) => i),
  );
  // 0-11 refused → 0-5 refused → 0-2, 3-5 → 6-11 refused → 6-8, 9-11: never the same range twice.
  assert.deepEqual(ranges, [
    [0, 11],
    [0, 5],
    [0, 2],
    [3, 5],
    [6, 11],
    [6, 8],
    [9, 11],
  ]);
});

test('a single block the node refuses is an error, not an endless split', async () => {
  const rpc = new EthereumRpc(
    new JsonRpcClient({ url, backoff: { baseDelayMs: 1, maxDelayMs: 2, jitter: true } }),
  );
  await assert.rejects(
    getLogsSplitting(rpc, 12, 14),
    (e: unknown) => e instanceof RpcError && /bad block 13/.test(e.message),
  );
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
