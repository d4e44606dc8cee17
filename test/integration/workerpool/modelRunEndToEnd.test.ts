// A ModelRun with executor `queue`, served by a WorkerPool, end to end: one operator process
// runs both controllers. The ModelRun controller sends the run's batches to the lane queue
// <chain>_backfill_nonreads; the pool, asleep at zero workers on that lane, wakes, its workers
// (this checkout's, through a local pod runner) work the batches, and the run succeeds.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CustomResourceClient, customResourceType } from '../../../adapters/kube/index.ts';
import type { ModelRun } from '../../../crds/generated/types.ts';
import { MODEL_RUN } from '../../../crds/kinds.ts';
import { kubeClients, pollUntil } from '../../support/kube.ts';
import { PoolWorld } from './poolWorld.ts';

let world: PoolWorld;
const runs = () =>
  new CustomResourceClient<ModelRun>(kubeClients().customObjects, customResourceType(MODEL_RUN));

before(async () => {
  world = await PoolWorld.create({ podRunner: true });
  await world.createPool('backfill-nonreads', {
    queues: { selector: { chain: world.chain, lanes: ['backfill'], kinds: ['nonreads'] } },
    minReplicas: 0,
    maxReplicas: 2,
    autoscaling: { targetMessagesPerReplica: 2, cooldownSeconds: 5, pollIntervalSeconds: 2 },
    podTemplate: { terminationGracePeriodSeconds: 30 },
  });
});

after(async () => {
  await world?.cleanup();
});

test('a ModelRun with executor queue is served by a WorkerPool and succeeds', async () => {
  const starts = await world.batchStarts(3);
  const first = Math.min(...starts);
  await runs().create(world.namespace, {
    metadata: { name: 'ingest-three-batches' },
    spec: {
      model: 'ingest',
      chain: world.chain,
      blocks: { start: first, end: first + 3 * 100 - 1 },
      executor: 'queue',
      lane: 'backfill',
    },
  });
  let run: ModelRun | undefined;
  await pollUntil(
    'the run to succeed',
    async () => {
      run = await runs().get(world.namespace, 'ingest-three-batches');
      return run?.status?.phase === 'Succeeded';
    },
    {
      timeoutMs: 120_000,
      intervalMs: 500,
      describe: async () => `${JSON.stringify(run?.status)}\n${await world.describe('backfill-nonreads')}`,
    },
  );
  assert.equal(run?.status?.queue, world.queue('backfill', 'nonreads'));
  assert.equal(run?.status?.batches?.succeeded, 3);

  const pool = await world.pool('backfill-nonreads');
  assert.deepEqual(pool.status?.queues, [world.queue('backfill', 'nonreads')]);
  assert.equal(
    (await world.waitForEvent('backfill-nonreads', 'Activated')).type,
    'Normal',
    'the pool woke for the run',
  );
  const started = (await world.workerLines()).filter((line) => line.msg === 'batch started');
  assert.equal(started.length, 3);
  await world.waitForDecision('backfill-nonreads', 0, 60_000);
});
