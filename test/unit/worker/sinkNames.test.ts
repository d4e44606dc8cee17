import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  encodeSinkValue,
  sinkRecordHeaders,
  sinkRecordKey,
  sinkTopicName,
} from '../../../adapters/kafka/sinkNames.ts';

const topics: [string, string, string | RegExp][] = [
  ['prod', 'ethereum', 'prod-ethereum-sink'],
  ['staging', 'arbitrum_one', 'staging-arbitrum_one-sink'],
  ['dev2', 'op', 'dev2-op-sink'],
  ['Prod', 'ethereum', /sink environment "[^"]*" must be/],
  ['pr-od', 'ethereum', /sink environment "[^"]*" must be/],
  ['', 'ethereum', /sink environment "[^"]*" must be/],
  ['prod', 'op-mainnet', /chain name "op-mainnet" must be/],
  ['prod', '../x', /chain name "..\/x" must be/],
];

for (const [env, chain, expected] of topics) {
  test(`sinkTopicName(${env}, ${chain})`, () => {
    if (expected instanceof RegExp) assert.throws(() => sinkTopicName(env, chain), expected);
    else assert.equal(sinkTopicName(env, chain), expected);
  });
}

const keys: [string, Parameters<typeof sinkRecordKey>[0], string | RegExp][] = [
  [
    'a transfer log',
    {
      model: 'erc20_transfers',
      dataset: 'erc20_transfers',
      chain: 'ethereum',
      block: 18_000_123,
      rowKey: '42',
    },
    'erc20_transfers:erc20_transfers:ethereum:18000123:42',
  ],
  [
    'a row key with colons',
    { model: 'erc20_balances', dataset: 'balances', chain: 'op', block: 7, rowKey: '0xabc:0xdef' },
    'erc20_balances:balances:op:7:0xabc:0xdef',
  ],
  [
    'block zero',
    { model: 'ingest', dataset: 'blocks', chain: 'local', block: 0, rowKey: '0' },
    'ingest:blocks:local:0:0',
  ],
  ['negative block', { model: 'm', dataset: 'd', chain: 'c', block: -1, rowKey: '0' }, /invalid block/],
  ['fractional block', { model: 'm', dataset: 'd', chain: 'c', block: 1.5, rowKey: '0' }, /invalid block/],
  ['model with a colon', { model: 'm:x', dataset: 'd', chain: 'c', block: 1, rowKey: '0' }, /invalid model/],
  ['empty row key', { model: 'm', dataset: 'd', chain: 'c', block: 1, rowKey: '' }, /invalid row key/],
  [
    'row key with a space',
    { model: 'm', dataset: 'd', chain: 'c', block: 1, rowKey: 'a b' },
    /invalid row key/,
  ],
];

for (const [name, row, expected] of keys) {
  test(`sinkRecordKey: ${name}`, () => {
    if (expected instanceof RegExp) assert.throws(() => sinkRecordKey(row), expected);
    else assert.equal(sinkRecordKey(row), expected);
  });
}

test('the key depends on the row only: same row, same key on every attempt', () => {
  const row = { model: 'erc20_transfers', dataset: 'erc20_transfers', chain: 'local', block: 5, rowKey: '3' };
  assert.equal(sinkRecordKey({ ...row }), sinkRecordKey({ ...row }));
});

test('headers carry model, version, dataset, run and batch as strings', () => {
  assert.deepEqual(
    sinkRecordHeaders({
      model: 'ingest',
      version: 1,
      dataset: 'logs',
      run: 'ns/run',
      batchId: 'local/ingest/100',
    }),
    { model: 'ingest', version: '1', dataset: 'logs', run: 'ns/run', batch: 'local/ingest/100' },
  );
});

test('values: bigints as exact decimal strings, bytes as hex, dates as ISO', () => {
  const encoded = encodeSinkValue({
    value: 2n ** 200n,
    data: new Uint8Array([0xde, 0xad]),
    at: new Date('2024-10-01T00:00:00Z'),
    n: 1,
  });
  assert.deepEqual(JSON.parse(encoded), {
    value: (2n ** 200n).toString(),
    data: '0xdead',
    at: '2024-10-01T00:00:00.000Z',
    n: 1,
  });
});
