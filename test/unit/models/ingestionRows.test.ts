import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RpcError } from '../../../adapters/ethereum/rpcErrors.ts';
import type { RpcBlock, RpcLog, RpcReceipt, RpcTransaction } from '../../../adapters/ethereum/rpcShapes.ts';
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

/** Empty blocks have no receipts. */
const noReceipts = (blocks: readonly RpcBlock[]): RpcReceipt[][] => blocks.map(() => []);

function transaction(blockNumber: number, index: number): RpcTransaction {
  return {
    hash: hashOf(50_000 + blockNumber * 10 + index),
    blockNumber,
    transactionIndex: index,
    from: `0x${'2'.repeat(40)}`,
    to: null,
    value: '0',
    nonce: index,
    gas: 100_000,
    gasPrice: '7',
    maxFeePerGas: null,
    maxPriorityFeePerGas: null,
    input: '0x',
    type: 0,
  };
}

function receiptOf(block: RpcBlock, tx: RpcTransaction, status: number | null): RpcReceipt {
  return {
    transactionHash: tx.hash,
    transactionIndex: tx.transactionIndex,
    blockHash: block.hash,
    blockNumber: block.number,
    status,
    gasUsed: 21_000,
    cumulativeGasUsed: 21_000 * (tx.transactionIndex + 1),
    effectiveGasPrice: status === null ? null : '7',
    contractAddress: `0x${'3'.repeat(40)}`,
    logs: [],
  };
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
    const rows = ingestionRows(
      { minBlock: 100, maxBlock: 110 },
      blocks,
      [log(103, 0), log(107, 1)],
      noReceipts(blocks),
    );
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
  const withTransactions = blocks.map((block) => ({
    ...block,
    transactions: [transaction(block.number, 0), transaction(block.number, 1)],
  }));
  const withReceipts = withTransactions.map((block) =>
    block.transactions.map((tx) => receiptOf(block, tx, 1)),
  );
  const cases: { name: string; run: () => unknown; retryable: boolean; message: RegExp }[] = [
    {
      name: 'missing block',
      run: () => ingestionRows(batch, blocks.slice(1), [], noReceipts(blocks)),
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
          noReceipts(blocks),
        ),
      retryable: false,
      message: /unexpected block 104/,
    },
    {
      name: 'broken parent link',
      run: () => ingestionRows(batch, broken, [], noReceipts(blocks)),
      retryable: true,
      message: /does not extend block 101/,
    },
    {
      name: 'log of another block hash',
      run: () => ingestionRows(batch, blocks, [log(101, 0, hashOf(5))], noReceipts(blocks)),
      retryable: true,
      message: /another block hash/,
    },
    {
      name: 'log outside the batch',
      run: () => ingestionRows(batch, blocks, [log(200, 0)], noReceipts(blocks)),
      retryable: false,
      message: /outside the batch/,
    },
    {
      name: 'a receipt missing',
      run: () =>
        ingestionRows(
          batch,
          withTransactions,
          [],
          withReceipts.map((r, i) => (i === 1 ? r.slice(1) : r)),
        ),
      retryable: true,
      message: /block 101 has 2 transactions but 1 receipts/,
    },
    {
      name: 'a receipt of another transaction',
      run: () =>
        ingestionRows(
          batch,
          withTransactions,
          [],
          withReceipts.map((r) => [...r].reverse()),
        ),
      retryable: true,
      message: /receipt 0 of block 100 is for/,
    },
    {
      name: 'receipts of another block hash',
      run: () =>
        ingestionRows(
          batch,
          withTransactions,
          [],
          withReceipts.map((r) => r.map((receipt) => ({ ...receipt, blockHash: hashOf(7) }))),
        ),
      retryable: true,
      message: /receipts of block 100 belong to another block hash/,
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

test("transactions carry their receipt's fields; status stays null before Byzantium", () => {
  const batch = { minBlock: 100, maxBlock: 102 };
  const blocks = chain(100, 2, (n) => MIDNIGHT + n).map((block) => ({
    ...block,
    transactions: [transaction(block.number, 0), transaction(block.number, 1)],
  }));
  const statuses = [null, 0, 1, 1];
  const receipts = blocks.map((block, b) =>
    block.transactions.map((tx, i) => receiptOf(block, tx, statuses[b * 2 + i]!)),
  );
  const rows = ingestionRows(batch, blocks, [], receipts);
  assert.deepEqual(
    rows.transactions.map((row) => [
      row.block_number,
      row.transaction_index,
      row.receipt_status,
      row.receipt_gas_used,
      row.receipt_cumulative_gas_used,
      row.receipt_effective_gas_price,
      row.receipt_contract_address,
    ]),
    [
      [100, 0, null, 21_000, 21_000, null, `0x${'3'.repeat(40)}`],
      [100, 1, 0, 21_000, 42_000, '7', `0x${'3'.repeat(40)}`],
      [101, 0, 1, 21_000, 21_000, '7', `0x${'3'.repeat(40)}`],
      [101, 1, 1, 21_000, 42_000, '7', `0x${'3'.repeat(40)}`],
    ],
  );
});
