// A batch whose blocks straddle midnight UTC, from a small scripted JSON-RPC node on
// 127.0.0.1 (scriptedNode.ts). Every
// model writes one file per day with num_parts = 2, even where a day has no rows, and
// token calls that revert become nulls and counters instead of failures.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { modelRegistry } from '../../../models/registry.ts';
import type { BatchSummary } from '../../../models/runBatch.ts';
import { type ModelTestStack, openModelTestStack, readLakeRows, runOver } from './modelTestSupport.ts';
import { type ScriptedNode, startScriptedNode, word } from './scriptedNode.ts';

const MIDNIGHT = Date.parse('2024-10-02T00:00:00Z') / 1000;
/** Block n's timestamp: midnight falls between blocks 59 and 60. */
const timestampOf = (n: number): number => MIDNIGHT + (n - 60) * 12;
const TOKEN = `0x${'7a'.repeat(20)}`;
const ALICE = `0x${'a1'.repeat(20)}`;
const BOB = `0x${'b0'.repeat(20)}`;
const MALLORY = `0x${'ee'.repeat(20)}`;

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

describe('a batch across midnight, from a scripted node', () => {
  let stack: ModelTestStack;
  let node: ScriptedNode;
  const summaries: Record<string, BatchSummary> = {};
  const batch = { minBlock: 0, maxBlock: 100 };

  before(async () => {
    node = await startScriptedNode({
      timestampOf,
      token: TOKEN,
      transfers: {
        10: [ALICE, BOB, 5n],
        70: [BOB, MALLORY, 2n ** 200n],
      },
      call,
    });
    stack = await openModelTestStack('models-midnight');
    const rpc = stack.rpcFor(node.url);
    for (const name of ['ingest', 'erc20_transfers', 'erc20_balances']) {
      const [summary] = await runOver(stack, modelRegistry.get(name), [batch], { rpc });
      summaries[name] = summary!;
    }
  });

  after(async () => {
    node?.close();
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
      blockMarkers.map((m) => [m.rowCount, m.minBlock, m.maxBlock]),
      [
        [60, 0, 60],
        [40, 60, 100],
      ],
      'blocks 0-59 before midnight, 60-99 after: each part records its own blocks',
    );
    const balanceMarkers = await stack.markers.batchMarkers(
      stack.chain.name,
      'blockbatch/erc20_balances/erc20_balances_v1',
      0,
    );
    assert.deepEqual(
      balanceMarkers.map((m) => [m.rowCount, m.minBlock, m.maxBlock]),
      [
        [0, 0, 60],
        [2, 60, 100],
      ],
      'balances are as of block 99, after midnight; the empty first day still covers its blocks',
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
