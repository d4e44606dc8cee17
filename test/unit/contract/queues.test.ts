import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  deadLetterQueueName,
  parseWorkQueueName,
  retryQueueName,
  workQueueName,
} from '../../../contract/queues.ts';

const parses: [string, ReturnType<typeof parseWorkQueueName>][] = [
  [
    'ethereum_realtime_reads',
    {
      kind: 'lane',
      name: 'ethereum_realtime_reads',
      chain: 'ethereum',
      lane: 'realtime',
      modelKind: 'reads',
    },
  ],
  [
    'matic_backfill_nonreads',
    {
      kind: 'lane',
      name: 'matic_backfill_nonreads',
      chain: 'matic',
      lane: 'backfill',
      modelKind: 'nonreads',
    },
  ],
  [
    'arbitrum_one_backfill_reads',
    {
      kind: 'lane',
      name: 'arbitrum_one_backfill_reads',
      chain: 'arbitrum_one',
      lane: 'backfill',
      modelKind: 'reads',
    },
  ],
  ['backfill_1', { kind: 'adHoc', name: 'backfill_1' }],
  ['backfill_4', { kind: 'adHoc', name: 'backfill_4' }],
  ['backfill_5', undefined],
  ['backfill_0', undefined],
  ['ethereum_realtime', undefined],
  ['ethereum_nightly_reads', undefined],
  ['ethereum_realtime_reads.dlq', undefined],
  ['ethereum_realtime_reads.retry.5000ms', undefined],
  ['Ethereum_realtime_reads', undefined],
  ['op-mainnet_realtime_reads', undefined],
  ['_realtime_reads', undefined],
  ['', undefined],
  ['ethereum_realtime_reads ', undefined],
  ['eth__x_realtime_reads', undefined], // the chain rule: no doubled underscore
  [`${'a'.repeat(46)}_backfill_nonreads`, undefined], // 64 characters: over the queue rule's 63
  [
    `${'a'.repeat(40)}_backfill_nonreads`,
    {
      kind: 'lane',
      name: `${'a'.repeat(40)}_backfill_nonreads`,
      chain: 'a'.repeat(40),
      lane: 'backfill',
      modelKind: 'nonreads',
    },
  ],
];

for (const [name, expected] of parses) {
  test(`parseWorkQueueName(${JSON.stringify(name)})`, () => {
    assert.deepEqual(parseWorkQueueName(name), expected);
  });
}

test('workQueueName builds <chain>_<lane>_<kind> and refuses bad parts', () => {
  assert.equal(workQueueName('base', 'realtime', 'nonreads'), 'base_realtime_nonreads');
  assert.throws(
    () => workQueueName('Base', 'realtime', 'reads'),
    /chain name "Base" must be a lower-case identifier/,
  );
  assert.throws(() => workQueueName('base', 'nightly' as 'realtime', 'reads'), /invalid lane/);
  assert.throws(() => workQueueName('base', 'realtime', 'writes' as 'reads'), /invalid model kind/);
});

test('dead-letter and retry queue names hang off a valid work queue only', () => {
  assert.equal(deadLetterQueueName('op_backfill_reads'), 'op_backfill_reads.dlq');
  assert.equal(deadLetterQueueName('backfill_2'), 'backfill_2.dlq');
  assert.equal(retryQueueName('op_backfill_reads', 5000), 'op_backfill_reads.retry.5000ms');
  assert.throws(
    () => deadLetterQueueName('op_backfill_reads.dlq'),
    /invalid work queue: queue name "op_backfill_reads.dlq" must be/,
  );
  assert.throws(() => retryQueueName('op_backfill_reads', 0), /invalid retry delay/);
  assert.throws(() => retryQueueName('op_backfill_reads', 1.5), /invalid retry delay/);
});
