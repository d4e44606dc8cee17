import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sinkKeyOf } from '../../../worker-image/modelBatchRunner.ts';

const output = { model: 'ingest', chain: 'local', batch: { minBlock: 100, maxBlock: 200 } };

const cases: [string, Parameters<typeof sinkKeyOf>[1], Record<string, unknown>, string | RegExp][] = [
  [
    'a block: the block is the key',
    { dataset: 'blocks', keyColumns: ['block_number'] },
    { block_number: 150n },
    'ingest:blocks:local:150:block',
  ],
  [
    'a log: block and log index',
    { dataset: 'logs', keyColumns: ['block_number', 'log_index'] },
    { block_number: 150n, log_index: 7 },
    'ingest:logs:local:150:7',
  ],
  [
    'a transaction: its hash',
    { dataset: 'transactions', keyColumns: ['transaction_hash'] },
    { block_number: 151, transaction_hash: '0xabc' },
    'ingest:transactions:local:151:0xabc',
  ],
  [
    'a balance: token and holder',
    { dataset: 'erc20_balances', keyColumns: ['token_address', 'holder_address'] },
    { block_number: 199n, token_address: '0x01', holder_address: '0x02' },
    'ingest:erc20_balances:local:199:0x01:0x02',
  ],
  [
    'no block column: the batch last block',
    { dataset: 'x', keyColumns: ['id'] },
    { id: 'a' },
    'ingest:x:local:199:a',
  ],
  [
    'a missing key value fails',
    { dataset: 'logs', keyColumns: ['block_number', 'log_index'] },
    { block_number: 1 },
    /key column log_index/,
  ],
];

for (const [name, dataset, row, expected] of cases) {
  test(`sinkKeyOf: ${name}`, () => {
    if (expected instanceof RegExp) assert.throws(() => sinkKeyOf(output, dataset, row), expected);
    else assert.equal(sinkKeyOf(output, dataset, row), expected);
  });
}
