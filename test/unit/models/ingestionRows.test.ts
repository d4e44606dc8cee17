import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RpcError } from '../../../adapters/ethereum/rpcErrors.ts';
import type { RpcBlock, RpcLog } from '../../../adapters/ethereum/rpcShapes.ts';
import type { DayRange } from '../../../dataplane/markers.ts';
import { ingestionRows } from '../../../models/ingest/ingestRows.ts';

const hashOf = (n: number): string => `0x${n.toString(16).padStart(64, '0')}`;
const MIDNIGHT = Date.parse('2024-10-02T00:00:00Z') / 1000;

function chain(first: number, count: number, timestampOf: (n: number) => number): RpcBlock[] {
  return Array.from({ length: count }, (_, i) => ({
    number: first + i,
    hash: hashOf(first + i),
    parentHash: hashOf(first + i - 1),
    timestamp: timestampOf(first + i),
    miner: `0x${'0'.repeat(40)}`,
    gasLimit: 30_000_000,
    gasUsed: 0,
    baseFeePerGas: '7',
    transactions: [],
  }));
}

function log(blockNumber: number, logIndex: number, blockHash = hashOf(blockNumber)): RpcLog {
  return {
    address: `0x${'1'.repeat(40)}`,
    topics: [hashOf(1), hashOf(2)],
    data: '0x',
    blockNumber,
    blockHash,
    transactionHash: hashOf(10_000 + blockNumber),
    transactionIndex: 0,
    logIndex,
    removed: false,
  };
}

test('rows carry their block timestamp, and the days are the days of the blocks, with their blocks', () => {
  const cases: { name: string; timestampOf: (n: number) => number; days: DayRange[] }[] = [
    {
      name: 'one day',
      timestampOf: (n) => MIDNIGHT - 1000 + n,
      days: [{ dt: '2024-10-01', minBlock: 100, maxBlock: 110 }],
    },
    {
      name: 'straddles midnight',
      timestampOf: (n) => MIDNIGHT - 5 + (n - 100),
      days: [
        { dt: '2024-10-01', minBlock: 100, maxBlock: 105 },
        { dt: '2024-10-02', minBlock: 105, maxBlock: 110 },
      ],
    },
    {
      name: 'starts at midnight',
      timestampOf: (n) => MIDNIGHT + (n - 100),
      days: [{ dt: '2024-10-02', minBlock: 100, maxBlock: 110 }],
    },
  ];
  for (const { name, timestampOf, days } of cases) {
    const blocks = chain(100, 10, timestampOf);
    const rows = ingestionRows({ minBlock: 100, maxBlock: 110 }, blocks, [log(103, 0), log(107, 1)]);
    assert.deepEqual(rows.days, days, name);
    assert.equal(rows.blocks.length, 10);
    assert.deepEqual(
      rows.logs.map((row) => [row.block_number, row.block_timestamp, row.topic0, row.topic2, row.topic3]),
      [
        [103, timestampOf(103), hashOf(1), null, null],
        [107, timestampOf(107), hashOf(1), null, null],
      ],
      name,
    );
  }
});

test('answers that do not describe one chain are refused; reorg symptoms are retryable', () => {
  const batch = { minBlock: 100, maxBlock: 104 };
  const blocks = chain(100, 4, (n) => MIDNIGHT + n);
  const broken = blocks.map((block) =>
    block.number === 102 ? { ...block, parentHash: hashOf(999) } : block,
  );
  const cases: { name: string; run: () => unknown; retryable: boolean; message: RegExp }[] = [
    {
      name: 'missing block',
      run: () => ingestionRows(batch, blocks.slice(1), []),
      retryable: false,
      message: /got 3 blocks, expected 4/,
    },
    {
      name: 'block outside',
      run: () =>
        ingestionRows(
          batch,
          chain(101, 4, (n) => n),
          [],
        ),
      retryable: false,
      message: /unexpected block 104/,
    },
    {
      name: 'broken parent link',
      run: () => ingestionRows(batch, broken, []),
      retryable: true,
      message: /does not extend block 101/,
    },
    {
      name: 'log of another block hash',
      run: () => ingestionRows(batch, blocks, [log(101, 0, hashOf(5))]),
      retryable: true,
      message: /another block hash/,
    },
    {
      name: 'log outside the batch',
      run: () => ingestionRows(batch, blocks, [log(200, 0)]),
      retryable: false,
      message: /outside the batch/,
    },
  ];
  for (const { name, run, retryable, message } of cases) {
    assert.throws(
      run,
      (e: unknown) => e instanceof RpcError && e.retryable === retryable && message.test(e.message),
      name,
    );
  }
});
