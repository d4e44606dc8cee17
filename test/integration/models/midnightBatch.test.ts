// A batch whose blocks straddle midnight UTC, from a small scripted JSON-RPC node on
// 127.0.0.1 (anvil's clock is shared by every test, so it is not moved here). Every
// model writes one file per day with num_parts = 2, even where a day has no rows, and
// token calls that revert become nulls and counters instead of failures.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ERC20_TRANSFER_TOPIC } from '../../../models/abi/erc20TransferLog.ts';
import { modelRegistry } from '../../../models/registry.ts';
import type { BatchSummary } from '../../../models/runBatch.ts';
import { type ModelTestStack, openModelTestStack, readLakeRows, runOver } from './modelTestSupport.ts';

const MIDNIGHT = Date.parse('2024-10-02T00:00:00Z') / 1000;
/** Block n's timestamp: midnight falls between blocks 59 and 60. */
const timestampOf = (n: number): number => MIDNIGHT + (n - 60) * 12;
const hashOf = (n: number): string => `0x${n.toString(16).padStart(64, '0')}`;
const hex = (n: number | bigint): string => `0x${n.toString(16)}`;
const word = (value: bigint): string => value.toString(16).padStart(64, '0');
const TOKEN = `0x${'7a'.repeat(20)}`;
const ALICE = `0x${'a1'.repeat(20)}`;
const BOB = `0x${'b0'.repeat(20)}`;
const MALLORY = `0x${'ee'.repeat(20)}`;
/** Transfers: block → [from, to, value]. */
const TRANSFERS: Record<number, [string, string, bigint]> = {
  10: [ALICE, BOB, 5n],
  70: [BOB, MALLORY, 2n ** 200n],
};

function block(n: number): unknown {
  const transactions = TRANSFERS[n]
    ? [
        {
          hash: hashOf(10_000 + n),
          blockNumber: hex(n),
          transactionIndex: '0x0',
          from: TRANSFERS[n][0],
          to: TOKEN,
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
    timestamp: hex(timestampOf(n)),
    miner: `0x${'0'.repeat(40)}`,
    gasLimit: '0x1c9c380',
    gasUsed: '0x0',
    baseFeePerGas: '0x7',
    transactions,
  };
}

function logs(from: number, to: number): unknown[] {
  return Object.entries(TRANSFERS)
    .filter(([n]) => Number(n) >= from && Number(n) <= to)
    .map(([n, [sender, receiver, value]]) => ({
      address: TOKEN,
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
}

/** decimals() = 9; symbol() reverts (an old token without one); balanceOf(MALLORY) reverts. */
function call(data: string): { result?: string; error?: { code: number; message: string } } {
  if (data === '0x313ce567') return { result: `0x${word(9n)}` };
  if (data === '0x95d89b41') return { error: { code: 3, message: 'execution reverted' } };
  if (data.startsWith('0x70a08231')) {
    const holder = `0x${data.slice(-40)}`;
    if (holder === MALLORY) return { error: { code: 3, message: 'execution reverted' } };
    return { result: `0x${word(holder === ALICE ? 100n : 7n)}` };
  }
  return { error: { code: -32601, message: 'method not found' } };
}

function answer(request: { id: number; method: string; params: unknown[] }): unknown {
  const base = { jsonrpc: '2.0', id: request.id };
  switch (request.method) {
    case 'eth_blockNumber':
      return { ...base, result: hex(1_000) };
    case 'eth_getBlockByNumber':
      return { ...base, result: block(Number(request.params[0])) };
    case 'eth_getLogs': {
      const filter = request.params[0] as { fromBlock: string; toBlock: string };
      return { ...base, result: logs(Number(filter.fromBlock), Number(filter.toBlock)) };
    }
    case 'eth_call':
      return { ...base, ...call((request.params[0] as { data: string }).data) };
    default:
      return { ...base, error: { code: -32601, message: 'method not found' } };
  }
}

describe('a batch across midnight, from a scripted node', () => {
  let stack: ModelTestStack;
  let server: Server;
  const summaries: Record<string, BatchSummary> = {};
  const batch = { minBlock: 0, maxBlock: 100 };

  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const parsed = JSON.parse(body) as Parameters<typeof answer>[0] | Parameters<typeof answer>[0][];
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(Array.isArray(parsed) ? parsed.map(answer) : answer(parsed)));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    stack = await openModelTestStack('models-midnight');
    const rpc = stack.rpcFor(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    for (const name of ['ingest', 'erc20_transfers', 'erc20_balances']) {
      const [summary] = await runOver(stack, modelRegistry.get(name), [batch], { rpc });
      summaries[name] = summary!;
    }
  });

  after(async () => {
    server?.closeAllConnections();
    server?.close();
    await stack?.close();
  });

  it('every root path holds one file per day with num_parts = 2, empty days included', async () => {
    const expectedDays = ['2024-10-01', '2024-10-02'];
    for (const model of modelRegistry.list()) {
      for (const dataset of model.datasets) {
        const markers = await stack.markers.batchMarkers(stack.chain.name, dataset.rootPath, batch.minBlock);
        assert.deepEqual(
          markers.map((m) => m.dt),
          expectedDays,
          dataset.rootPath,
        );
        assert.ok(
          markers.every((m) => m.numParts === 2),
          `${dataset.rootPath} num_parts`,
        );
        assert.deepEqual(
          await stack.lake.list(dataset.rootPath),
          expectedDays.map((dt) => `${dataset.rootPath}/chain=local/dt=${dt}/000000000000.parquet`),
        );
      }
    }
    const blockMarkers = await stack.markers.batchMarkers(stack.chain.name, 'ingestion/blocks_v1', 0);
    assert.deepEqual(
      blockMarkers.map((m) => m.rowCount),
      [60, 40],
      'blocks 0-59 before midnight, 60-99 after',
    );
    const balanceMarkers = await stack.markers.batchMarkers(
      stack.chain.name,
      'blockbatch/erc20_balances/erc20_balances_v1',
      0,
    );
    assert.deepEqual(
      balanceMarkers.map((m) => m.rowCount),
      [0, 2],
      'balances are as of block 99, after midnight',
    );
  });

  it('transfers land on the day of their block, values exact', async () => {
    const rows = await readLakeRows(stack, 'blockbatch/erc20_transfers/erc20_transfers_v1');
    assert.deepEqual(
      rows.map((row) => [
        Number(row.block_number),
        (row.block_timestamp as Date).toISOString(),
        row.from_address,
        row.to_address,
        row.value,
      ]),
      [
        [10, new Date(timestampOf(10) * 1000).toISOString(), ALICE, BOB, '5'],
        [70, new Date(timestampOf(70) * 1000).toISOString(), BOB, MALLORY, (2n ** 200n).toString()],
      ],
    );
  });

  it('reverting token calls become nulls and counters, not failures', async () => {
    const rows = await readLakeRows(stack, 'blockbatch/erc20_balances/erc20_balances_v1', 'holder_address');
    assert.deepEqual(
      rows.map((row) => [
        Number(row.block_number),
        row.holder_address,
        row.balance,
        row.decimals,
        row.symbol,
      ]),
      [
        [99, ALICE, '100', 9, null],
        [99, BOB, '7', 9, null],
      ],
    );
    assert.deepEqual(summaries.erc20_balances!.counters, {
      balance_calls: 3,
      skipped_failed_calls: 1,
      skipped_undecodable_balances: 0,
    });
  });
});
