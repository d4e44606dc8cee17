import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BatchFact } from '../../../contract/batchFacts.ts';
import { nextBatchFact } from '../../../adapters/redis/batchFactRules.ts';
import { BATCH_FACT_CASES } from '../../support/batchFactCases.ts';

for (const { name, events, expected } of BATCH_FACT_CASES) {
  test(`nextBatchFact: ${name}`, () => {
    let fact: BatchFact | undefined;
    for (const event of events) fact = nextBatchFact(fact, event) ?? fact;
    assert.deepEqual(fact, expected);
  });
}

test('nextBatchFact says "no change" (undefined) for a report that changes nothing', () => {
  const done: BatchFact = { minBlock: 0, maxBlock: 100, state: 'succeeded', attempts: 1, worker: 'w' };
  const start = { kind: 'started', minBlock: 0, maxBlock: 100, attempt: 2, worker: 'w', at: 5 } as const;
  assert.equal(nextBatchFact(done, start), undefined);
  const running: BatchFact = { minBlock: 0, maxBlock: 100, state: 'running', attempts: 3, worker: 'w' };
  assert.equal(nextBatchFact(running, start), undefined, 'attempt 2 after attempt 3 is stale');
});
