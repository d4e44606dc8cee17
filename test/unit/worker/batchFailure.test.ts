import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RpcError } from '../../../adapters/ethereum/rpcErrors.ts';
import type { BatchMessage } from '../../../contract/batchMessage.ts';
import { BatchNotReadyError } from '../../../models/batchReadiness.ts';
import { BatchFailure, classifyFailure, tagFailures } from '../../../worker-image/batchFailure.ts';
import { misrouting } from '../../../worker-image/queueDelivery.ts';

const classifications: [string, unknown, ReturnType<typeof classifyFailure>][] = [
  [
    'a tagged failure keeps its tag',
    new BatchFailure('clickhouse', 'clickhouse: ECONNREFUSED'),
    { reason: 'clickhouse', retryable: true, message: 'clickhouse: ECONNREFUSED' },
  ],
  [
    'an unknown model is not retryable',
    new BatchFailure('unknownModel', 'no model "nope"'),
    { reason: 'unknownModel', retryable: false, message: 'no model "nope"' },
  ],
  [
    'a tag found on the cause chain',
    new Error('model wrapped it', {
      cause: new BatchFailure('kafka', 'kafka: timeout'),
    }),
    { reason: 'kafka', retryable: true, message: 'model wrapped it' },
  ],
  [
    'an RPC error the client gave up on is still retried at the batch level',
    new RpcError('invalid-response', 'eth_getLogs', 'invalid response: garbage', { retryable: false }),
    { reason: 'rpc', retryable: true, message: 'rpc: eth_getLogs: invalid response: garbage' },
  ],
  [
    'inputs not complete yet: retried as notReady',
    new BatchNotReadyError('input ingestion/logs_v1 is not complete for batch 0-99 of local'),
    {
      reason: 'notReady',
      retryable: true,
      message: 'not ready: input ingestion/logs_v1 is not complete for batch 0-99 of local',
    },
  ],
  [
    'anything else is a model failure',
    new TypeError('x is undefined'),
    { reason: 'model', retryable: true, message: 'x is undefined' },
  ],
  ['a thrown string', 'boom', { reason: 'model', retryable: true, message: 'boom' }],
];

for (const [name, error, expected] of classifications) {
  test(`classifyFailure: ${name}`, () => {
    assert.deepEqual(classifyFailure(error), expected);
  });
}

test('tagFailures tags rejections and throws of every method, and passes results through', async () => {
  class Store {
    #secret = 41;
    async ok(): Promise<number> {
      return this.#secret + 1;
    }
    async down(): Promise<void> {
      throw new Error('connect ECONNREFUSED 127.0.0.1:1');
    }
    sync(): number {
      throw new Error('bad state');
    }
  }
  const store = tagFailures(new Store(), 'clickhouse');
  assert.equal(await store.ok(), 42);
  await assert.rejects(store.down(), (error: unknown) => {
    assert.ok(error instanceof BatchFailure);
    assert.equal(error.reason, 'clickhouse');
    assert.equal(error.message, 'clickhouse: connect ECONNREFUSED 127.0.0.1:1');
    return true;
  });
  assert.throws(() => store.sync(), /clickhouse: bad state/);
});

const message = { chain: 'ethereum' } as BatchMessage;
const routes: [string, string | undefined][] = [
  ['ethereum_backfill_nonreads', undefined],
  ['backfill_3', undefined],
  ['op_realtime_reads', 'batch of chain ethereum on queue op_realtime_reads, which carries chain op'],
];

for (const [queue, expected] of routes) {
  test(`misrouting(${queue})`, () => {
    assert.equal(misrouting(queue, message), expected);
  });
}
