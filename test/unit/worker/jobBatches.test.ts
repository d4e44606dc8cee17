import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BatchMessage } from '../../../contract/batchMessage.ts';
import { parseJobBatches, selectJobBatches } from '../../../worker-image/jobMode.ts';

function batch(minBlock: number): BatchMessage {
  return {
    runId: { namespace: 'default', name: 'run', uid: 'u-1' },
    batchId: `local/ingest/${minBlock}`,
    model: 'ingest',
    version: 1,
    chain: 'local',
    minBlock,
    maxBlock: minBlock + 100,
    force: false,
    maxRetriesPerBatch: 1,
    attempt: 1,
    enqueuedAt: '2024-10-01T00:00:00Z',
  };
}

test('a batch list parses to its messages, in order', () => {
  assert.deepEqual(parseJobBatches(JSON.stringify([batch(0), batch(100)])), [batch(0), batch(100)]);
});

const refusals: [string, string, RegExp][] = [
  ['not JSON', '[{', /not JSON/],
  ['an object', JSON.stringify(batch(0)), /non-empty array/],
  ['empty', '[]', /non-empty array/],
  ['an invalid entry', JSON.stringify([batch(0), { ...batch(100), chain: 'Bad' }]), /batch 1: chain/],
  ['a batch twice', JSON.stringify([batch(0), batch(0)]), /batch 1: local\/ingest\/0 is listed twice/],
];

for (const [name, text, expected] of refusals) {
  test(`parseJobBatches refuses ${name}`, () => {
    assert.throws(() => parseJobBatches(text), expected);
  });
}

test('the completion index picks one batch; without it, all', () => {
  const batches = [batch(0), batch(100), batch(200)];
  assert.deepEqual(selectJobBatches(batches, undefined), batches);
  assert.deepEqual(selectJobBatches(batches, 0), [batch(0)]);
  assert.deepEqual(selectJobBatches(batches, 2), [batch(200)]);
  assert.throws(() => selectJobBatches(batches, 3), /JOB_COMPLETION_INDEX 3 is beyond the 3 batches/);
});
