// deploy/default-workerpools.yaml: the pools `make deploy` applies serve each lane queue of the
// `local` chain exactly once, in namespace default, asleep at zero workers while idle.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LANES, MODEL_KINDS, workQueueName } from '../../../contract/queues.ts';
import { poolQueues } from '../../../controllers/planning/workerPoolQueues.ts';
import { defaultWorkerPools } from '../../../devtools/defaultWorkerPools.ts';

const pools = defaultWorkerPools();

test('one autoscaled pool per lane queue of the local chain, in default, from zero workers', () => {
  const served = pools.flatMap((pool) => poolQueues(pool.spec.queues)).sort();
  const lanes = LANES.flatMap((lane) => MODEL_KINDS.map((kind) => workQueueName('local', lane, kind))).sort();
  assert.deepEqual(served, lanes);
  for (const pool of pools) {
    assert.equal(pool.kind, 'WorkerPool');
    assert.equal(pool.metadata.namespace, 'default');
    assert.equal(pool.spec.minReplicas, 0, pool.metadata.name);
    assert.ok(pool.spec.autoscaling, `${pool.metadata.name} scales on its depth`);
  }
});
