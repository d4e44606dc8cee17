// Scale-down while several workers hold unacked batches: the pool removes only the workers that
// hold nothing (pod deletion cost from each worker's unacked count, read per connection from the
// management API), so no batch is handed back and none is worked twice. The grace period is
// made short on purpose: a busy worker removed by mistake would hand its batch back (the test
// would see it started twice).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { stackEnv } from '../../../devtools/stackEnv.ts';
import { pollUntil } from '../../support/kube.ts';
import { uniqueName } from '../../support/names.ts';
import { FlakyRpc } from '../worker/flakyRpc.ts';
import { PoolWorld } from './poolWorld.ts';

let world: PoolWorld;
let slowRpc: FlakyRpc;
const runUid = uniqueName('uid');

before(async () => {
  slowRpc = await FlakyRpc.start(stackEnv().ETH_RPC_URL);
  slowRpc.failing = false;
  slowRpc.delayMs = 2_500;
  world = await PoolWorld.create({ podRunner: true, workerRpcUrl: slowRpc.url });
  await world.declare(world.queue());
  await world.createPool('busy', {
    minReplicas: 4,
    maxReplicas: 4,
    autoscaling: { targetMessagesPerReplica: 1, cooldownSeconds: 0, pollIntervalSeconds: 1 },
    // The worker's own grace is derived: 2 s, far shorter than a batch here.
    podTemplate: { terminationGracePeriodSeconds: 4 },
  });
});

after(async () => {
  await world?.cleanup();
  await slowRpc?.close();
});

test('4 workers, 2 of them busy, scaled down to 2: the idle ones go, no batch is lost or worked twice', async () => {
  await pollUntil('4 ready workers', async () => (await world.pool('busy')).status?.readyReplicas === 4, {
    timeoutMs: 60_000,
    describe: () => world.describe('busy'),
  });
  const deployment = await world.deployment('busy');
  const env = deployment?.spec?.template.spec?.containers[0]?.env ?? [];
  assert.equal(env.find((entry) => entry.name === 'WORKER_SHUTDOWN_GRACE_MS')?.value, '2000');

  const starts = await world.batchStarts(2);
  await world.publish(
    world.queue(),
    starts.map((start) => world.batch(start, runUid)),
  );
  const busyPods = await pollUntil(
    'two workers to start a batch each',
    async () => {
      const started = (await world.workerLines()).filter((line) => line.msg === 'batch started');
      return started.length === 2 ? started.map((line) => String(line.file)) : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 200, describe: () => world.describe('busy') },
  );
  // The management API shows deliveries seconds late (docs/custom-resources.md): the pool can
  // only keep the busy workers once its readings show them busy. Wait for that, then let it go.
  await pollUntil(
    "the pool's reading to show the 2 unacked batches",
    async () => (await world.pool('busy')).status?.queueDepth?.unacked === 2,
    { timeoutMs: 30_000, describe: () => world.describe('busy') },
  );
  // Let the pool go: 2 messages in flight at 1 per worker ask for 2 workers.
  await world.patchPool('busy', { minReplicas: 0 });
  await world.waitForDecision('busy', 2, 20_000);
  const survivors = await pollUntil(
    'two workers left',
    async () => {
      const pods = (await world.pods('busy')).filter((pod) => !pod.metadata?.deletionTimestamp);
      return pods.length === 2 ? pods.map((pod) => pod.metadata!.name!) : undefined;
    },
    { timeoutMs: 30_000, describe: () => world.describe('busy') },
  );
  assert.deepEqual(
    [...survivors].sort(),
    busyPods.map((file) => file.slice(world.namespace.length + 1, -'_worker.log'.length)).sort(),
    'the busy workers stay',
  );

  await pollUntil(
    'the 2 batches to succeed',
    async () => (await world.readProgress(runUid)).succeeded === 2,
    {
      timeoutMs: 120_000,
      intervalMs: 250,
      describe: () => world.describe('busy'),
    },
  );
  await world.waitForDecision('busy', 0, 30_000);
  await pollUntil('every worker pod to be gone', async () => (await world.pods('busy')).length === 0, {
    timeoutMs: 30_000,
    describe: () => world.describe('busy'),
  });

  const lines = await world.workerLines();
  const started = lines.filter((line) => line.msg === 'batch started').map((line) => line.batchId);
  assert.deepEqual(
    [...started].sort(),
    starts.map((start) => `${world.chain}/ingest/${start}`).sort(),
    'each batch started exactly once',
  );
  assert.deepEqual(
    lines.filter((line) => line.msg === 'waiting for in-flight batches' || line.msg === 'redelivered batch'),
    [],
    'no worker was stopped holding a batch',
  );
  assert.equal(
    lines.filter((line) => line.msg === 'worker stopped').length,
    4,
    'every worker stopped cleanly',
  );
});
