// What providers answer to a batch they will not take, and the batch size the client uses next.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type BatchAnswer,
  type BatchRejection,
  batchRejection,
  nextBatchSize,
} from '../../../adapters/ethereum/batchSizeAdaptation.ts';

test('answers that refuse a batch for its size, or batching itself', () => {
  const cases: [name: string, answer: BatchAnswer, expected: BatchRejection | undefined][] = [
    ['HTTP 413, any body', { httpStatus: 413, message: '' }, 'too-large'],
    ['geth (tied to the first call)', { code: -32600, message: 'batch too large' }, 'too-large'],
    [
      'erigon',
      { code: -32600, message: 'batch limit 100 exceeded (can increase by --rpc.batch.limit)' },
      'too-large',
    ],
    ['jsonrpsee', { code: -32010, message: 'The batch request was too large', untied: true }, 'too-large'],
    [
      'HTTP 400 with a message',
      { httpStatus: 400, message: '{"error":"Batch size too large, max 50"}' },
      'too-large',
    ],
    ['too many requests in a batch', { code: -32005, message: 'too many requests in batch' }, 'too-large'],
    ['geth response size limit', { code: -32003, message: 'response too large' }, 'too-large'],
    [
      'jsonrpsee without batches (-32005 is no rate limit here)',
      { code: -32005, message: 'Batched requests are not supported by this server', untied: true },
      'batching-refused',
    ],
    [
      'batches disabled',
      { httpStatus: 400, message: 'batch requests are disabled on this plan' },
      'batching-refused',
    ],
    [
      'a server that only parses objects',
      { code: -32600, message: 'Invalid Request', untied: true },
      'batching-refused',
    ],
    ['the same, tied to a call: about that call', { code: -32600, message: 'Invalid Request' }, undefined],
    [
      'a contract reverting "batch limit"',
      { code: 3, message: 'execution reverted: batch limit exceeded' },
      undefined,
    ],
    ['a revert without code 3', { code: -32000, message: 'execution reverted: max batch' }, undefined],
    ['a rate limit', { httpStatus: 429, message: 'Too Many Requests' }, undefined],
    ['a server error', { httpStatus: 503, message: 'upstream unavailable' }, undefined],
    ['an internal error', { code: -32603, message: 'internal error', untied: true }, undefined],
  ];
  for (const [name, answer, expected] of cases) assert.equal(batchRejection(answer), expected, name);
});

test('the next batch size halves the rejected batch, never rises, and ends at single calls', () => {
  const cases: [current: number, rejected: number, rejection: BatchRejection, expected: number][] = [
    [100, 100, 'too-large', 50],
    [50, 50, 'too-large', 25],
    [25, 25, 'too-large', 12],
    [12, 12, 'too-large', 6],
    [3, 3, 'too-large', 1],
    [2, 2, 'too-large', 1],
    // Another request lowered the size meanwhile: keep the lower one.
    [12, 100, 'too-large', 12],
    // A retry of fewer calls than the size was refused: below that.
    [50, 30, 'too-large', 15],
    [100, 100, 'batching-refused', 1],
    [7, 4, 'batching-refused', 1],
  ];
  for (const [current, rejected, rejection, expected] of cases) {
    assert.equal(
      nextBatchSize(current, rejected, rejection),
      expected,
      `${current}/${rejected}/${rejection}`,
    );
  }
});

test('a cap of 10 is found from 100 in four refusals', () => {
  let size = 100;
  let refusals = 0;
  while (size > 10) {
    size = nextBatchSize(size, size, 'too-large');
    refusals++;
  }
  assert.deepEqual([size, refusals], [6, 4]);
});
