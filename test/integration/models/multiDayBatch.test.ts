// One batch across three UTC days (early Ethereum's 10,000-block batches span two or three):
// every dataset writes three files whose markers record each day's own blocks, the parts tile
// the batch, and coverage per day equals the blocks the lake holds for that day. The block
// at index 80 is dated exactly midnight, so rows cross the day at a block boundary, and the
// middle day has no logs at all (its logs file is empty and still covers its blocks). Run on
// the stack's ClickHouse 18.16 and on a current ClickHouse (chdb).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { INGESTION_ROOT_PATHS } from '../../../dataplane/paths.ts';
import { modelRegistry } from '../../../models/registry.ts';
import {
  type MarkerEngine,
  type ModelTestStack,
  openModelTestStack,
  readLakeRows,
  runOver,
} from './modelTestSupport.ts';
import { type ScriptedNode, startScriptedNode } from './scriptedNode.ts';

const DAY_2 = Date.parse('2015-11-03T00:00:00Z') / 1000;
const DAY_3 = Date.parse('2015-11-04T00:00:00Z') / 1000;
/** Blocks 0-3 in the last seconds of 2015-11-02, 4-79 on 11-03, 80-99 on 11-04 from midnight exactly. */
function timestampOf(n: number): number {
  if (n < 4) return DAY_2 - 4 + n;
  if (n < 80) return DAY_2 + (n - 4) * 1_000;
  return DAY_3 + (n - 80) * 15;
}
const TOKEN = `0x${'7a'.repeat(20)}`;
const ALICE = `0x${'a1'.repeat(20)}`;
const BOB = `0x${'b0'.repeat(20)}`;
const BATCH = { minBlock: 0, maxBlock: 100 };
const EXPECTED_DAYS = [
  { dt: '2015-11-02', minBlock: 0, maxBlock: 4 },
  { dt: '2015-11-03', minBlock: 4, maxBlock: 80 },
  { dt: '2015-11-04', minBlock: 80, maxBlock: 100 },
];
const ROOT_PATHS = [...Object.values(INGESTION_ROOT_PATHS), 'blockbatch/erc20_transfers/erc20_transfers_v1'];

for (const markerEngine of ['server', 'chdb'] satisfies MarkerEngine[]) {
  describe(`a batch across three UTC days, markers on ${markerEngine === 'server' ? 'ClickHouse 18.16' : 'chdb'}`, () => {
    let stack: ModelTestStack;
    let node: ScriptedNode;

    before(async () => {
      // Transfers on the first day and at the very first block of the third: none on the second.
      node = await startScriptedNode({
        timestampOf,
        token: TOKEN,
        transfers: { 2: [ALICE, BOB, 1n], 80: [BOB, ALICE, 2n] },
      });
      stack = await openModelTestStack(`models-3days-${markerEngine}`, { markerEngine });
      const rpc = stack.rpcFor(node.url);
      for (const name of ['ingest', 'erc20_transfers'])
        await runOver(stack, modelRegistry.get(name), [BATCH], { rpc });
    });

    after(async () => {
      node?.close();
      await stack?.close();
    });

    it('writes three parts per dataset, each with the blocks of its own day, tiling the batch', async () => {
      for (const rootPath of ROOT_PATHS) {
        const markers = await stack.markers.batchMarkers(stack.chain.name, rootPath, BATCH.minBlock);
        assert.deepEqual(
          markers.map(({ dt, minBlock, maxBlock, numParts }) => ({ dt, minBlock, maxBlock, numParts })),
          EXPECTED_DAYS.map((day) => ({ ...day, numParts: 3 })),
          rootPath,
        );
        assert.equal(await stack.markers.isBatchComplete(stack.chain.name, rootPath, BATCH.minBlock), true);
      }
    });

    it('covers each day with exactly the blocks the lake holds for it, empty logs day included', async () => {
      const blocks = await readLakeRows(stack, INGESTION_ROOT_PATHS.blocks);
      const blocksPerDay = new Map<string, number>();
      for (const row of blocks) {
        const dt = (row.block_timestamp as Date).toISOString().slice(0, 10);
        blocksPerDay.set(dt, (blocksPerDay.get(dt) ?? 0) + 1);
      }
      assert.deepEqual(
        [...blocksPerDay.entries()],
        [
          ['2015-11-02', 4],
          ['2015-11-03', 76],
          ['2015-11-04', 20],
        ],
      );
      const coverage = await stack.markers.coverage({
        chain: stack.chain.name,
        rootPaths: ROOT_PATHS,
        fromDt: '2015-11-01',
        toDt: '2015-11-05',
      });
      for (const rootPath of ROOT_PATHS) {
        assert.deepEqual(
          coverage
            .filter((row) => row.rootPath === rootPath)
            .map((row) => [row.dt, row.coveredBlocks, row.completeBatches]),
          [...blocksPerDay.entries()].map(([dt, count]) => [dt, count, 1]),
          rootPath,
        );
      }
      const logs = coverage.filter((row) => row.rootPath === INGESTION_ROOT_PATHS.logs);
      assert.deepEqual(
        logs.map((row) => row.rowCount),
        [1, 0, 1],
        'the middle day has no logs and still covers 76 blocks',
      );
    });

    it('puts the block dated exactly midnight, and its transfer, on the new day', async () => {
      const transfers = await readLakeRows(stack, 'blockbatch/erc20_transfers/erc20_transfers_v1');
      assert.deepEqual(
        transfers.map((row) => [Number(row.block_number), (row.block_timestamp as Date).toISOString()]),
        [
          [2, '2015-11-02T23:59:58.000Z'],
          [80, '2015-11-04T00:00:00.000Z'],
        ],
      );
      const markers = await stack.markers.batchMarkers(
        stack.chain.name,
        'blockbatch/erc20_transfers/erc20_transfers_v1',
        0,
      );
      assert.deepEqual(
        markers.map((m) => m.rowCount),
        [1, 0, 1],
      );
    });
  });
}
