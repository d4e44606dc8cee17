import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunRequest } from '../../../contract/batchMessage.ts';
import { loadChains } from '../../../dataplane/chains.ts';
import { jobBatches } from '../../../worker-image/jobMode.ts';

const run: RunRequest = {
  runId: { namespace: 'default', name: 'run', uid: 'u-1' },
  model: 'ingest',
  version: 1,
  chain: 'local',
  range: { minBlock: 150, maxBlock: 420 },
  force: false,
  maxRetriesPerBatch: 1,
};

test("a pod derives its batch from the run's range and its completion index, as the operator sized the Job", () => {
  const chains = loadChains(); // local: 100-block batches
  const cases: [index: number | undefined, expected: [number, number][]][] = [
    [
      undefined,
      [
        [100, 200],
        [200, 300],
        [300, 400],
        [400, 500],
      ],
    ],
    [0, [[100, 200]]],
    [3, [[400, 500]]],
  ];
  for (const [index, expected] of cases) {
    assert.deepEqual(
      jobBatches(run, chains, index).map((batch) => [batch.minBlock, batch.maxBlock]),
      expected,
      `index ${index}`,
    );
  }
  assert.throws(() => jobBatches(run, chains, 4), /JOB_COMPLETION_INDEX 4 is beyond the run's 4 batches/);
  assert.throws(() => jobBatches({ ...run, chain: 'nowhere' }, chains, 0), /unknown chain "nowhere"/);
});
