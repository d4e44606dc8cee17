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
  const cases: { name: string; answer: BatchAnswer; expected: BatchRejection | undefined }[] = [
    { name: 'HTTP 413, any body', answer: { httpStatus: 413, message: '' }, expected: 'too-large' },
    {
      name: 'geth (tied to the first call)',
      answer: { code: -32600, message: 'batch too large' },
      expected: 'too-large',
    },
    {
      name: 'erigon',
      answer: { code: -32600, message: 'batch limit 100 exceeded (can increase by --rpc.batch.limit)' },
      expected: 'too-large',
    },
    {
      name: 'jsonrpsee',
      answer: { code: -32010, message: 'The batch request was too large', untied: true },
      expected: 'too-large',
    },
    {
      name: 'HTTP 400 with a provider message',
      answer: { httpStatus: 400, message: '{"error":"Batch size too large, max 50"}' },
      expected: 'too-large',
    },
    {
      name: 'too many requests in a batch',
      answer: { code: -32005, message: 'too many requests in batch' },
      expected: 'too-large',
    },
    {
      name: 'geth response size limit',
      answer: { code: -32003, message: 'response too large' },
      expected: 'too-large',
    },
    {
      name: 'jsonrpsee without batches (-32005 is no rate limit here)',
      answer: { code: -32005, message: 'Batched requests are not supported by this server', untied: true },
      expected: 'batching-refused',
    },
    {
      name: 'batch requests disabled',
      answer: { httpStatus: 400, message: 'batch requests are disabled on this plan' },
      expected: 'batching-refused',
    },
    {
      name: 'a server that only parses objects',
      answer: { code: -32600, message: 'Invalid Request', untied: true },
      expected: 'batching-refused',
    },
    {
      name: 'the same invalid request tied to a call is about that call',
      answer: { code: -32600, message: 'Invalid Request' },
      expected: undefined,
    },
    {
      name: 'a contract reverting with "batch limit" in its reason',
      answer: { code: 3, message: 'execution reverted: batch limit exceeded' },
      expected: undefined,
    },
    {
      name: 'a revert reported without code 3',
      answer: { code: -32000, message: 'execution reverted: max batch' },
      expected: undefined,
    },
    { name: 'a rate limit', answer: { httpStatus: 429, message: 'Too Many Requests' }, expected: undefined },
    {
      name: 'a server error',
      answer: { httpStatus: 503, message: 'upstream unavailable' },
      expected: undefined,
    },
    {
      name: 'an internal error',
      answer: { code: -32603, message: 'internal error', untied: true },
      expected: undefined,
    },
  ];
  for (const { name, answer, expected } of cases) assert.equal(batchRejection(answer), expected, name);
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
