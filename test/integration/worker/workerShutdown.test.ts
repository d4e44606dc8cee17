// SIGTERM with a batch in flight: within the grace period the batch finishes and is acked;
// past it the batch is handed back to the queue untouched and another worker completes it.
// Either way the worker exits 0 and the batch is committed once.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { INGESTION_ROOT_PATHS } from '../../../dataplane/paths.ts';
import { AnvilSession } from '../../../devtools/anvil/erc20Scenario.ts';
import { stackEnv } from '../../../devtools/stackEnv.ts';
import { FlakyRpc } from './flakyRpc.ts';
import { eventually } from './support.ts';
import { BATCH_SIZE, batchStart, WorkerTestWorld } from './workerHarness.ts';

let world: WorkerTestWorld;
let slowRpc: FlakyRpc;
let firstStart: number;

/**
 * Waits for an RPC request after the first `asked`: the worker asks the RPC only inside a
 * batch, so one more request means the batch is under way.
 */
async function batchUnderWay(asked: number): Promise<void> {
  await eventually('an RPC request of the batch', () =>
    slowRpc.forwardedRequests > asked ? true : undefined,
  );
}

before(async () => {
  world = await WorkerTestWorld.create();
  slowRpc = await FlakyRpc.start(stackEnv().ETH_RPC_URL);
  slowRpc.failing = false;
  const anvil = await new AnvilSession(stackEnv().ETH_RPC_URL).init();
  if ((await anvil.blockNumber()) < 1_000) await anvil.mine(1_000);
  firstStart = batchStart((await anvil.blockNumber()) - 500);
});

after(async () => {
  await world.cleanup(); // its workers first, then the RPC they used
  await slowRpc.close();
});

test('SIGTERM within the grace period: the in-flight batch finishes, is acked, and the worker exits 0', async () => {
  slowRpc.delayMs = 1_000;
  const worker = await world.startWorker({
    [world.rpcEnvVar]: slowRpc.url,
    WORKER_SHUTDOWN_GRACE_MS: '20000',
  });
  const run = world.runOf('graceful');
  const asked = slowRpc.forwardedRequests;
  await world.publish(world.batch('ingest', firstStart, run));
  await batchUnderWay(asked);
  const exit = await worker.stop('SIGTERM');
  assert.deepEqual(exit, { code: 0, signal: null });
  assert.ok(worker.lines.some((line) => line.msg === 'waiting for in-flight batches'));
  assert.equal(worker.lines.find((line) => line.msg === 'batch done')?.outcome, 'succeeded');
  assert.equal((await world.readProgress(run.runId.uid)).succeeded, 1);
  assert.equal(await world.markers.isBatchComplete(world.chain, INGESTION_ROOT_PATHS.logs, firstStart), true);
  assert.deepEqual(await world.queueCounts(), { ready: 0, dead: 0 });
});

test('SIGTERM past the grace period: the batch goes back to the queue, exit 0, and another worker completes it', async () => {
  slowRpc.delayMs = 4_000;
  const start = firstStart + BATCH_SIZE;
  const worker = await world.startWorker({ [world.rpcEnvVar]: slowRpc.url, WORKER_SHUTDOWN_GRACE_MS: '300' });
  const run = world.runOf('handed-back');
  const asked = slowRpc.forwardedRequests;
  await world.publish(world.batch('ingest', start, run));
  await batchUnderWay(asked);
  const exit = await worker.stop('SIGTERM');
  assert.deepEqual(exit, { code: 0, signal: null });
  assert.ok(worker.lines.some((line) => line.msg === 'batch interrupted by shutdown; handing it back'));
  assert.equal(await world.markers.isBatchComplete(world.chain, INGESTION_ROOT_PATHS.logs, start), false);
  const progress = await world.readProgress(run.runId.uid);
  assert.deepEqual([progress.succeeded, progress.failed, progress.retried], [0, 0, 0]);
  assert.equal(
    await eventually('the batch back on the queue', async () =>
      (await world.queueCounts()).ready === 1 ? 1 : undefined,
    ),
    1,
  );

  slowRpc.delayMs = 0;
  const next = await world.startWorker({});
  await world.waitForProgress(
    'the batch done by the next worker',
    (p) => p.succeeded === 1,
    30_000,
    run.runId.uid,
  );
  assert.equal(await world.markers.isBatchComplete(world.chain, INGESTION_ROOT_PATHS.logs, start), true);
  assert.deepEqual(await next.stop('SIGTERM'), { code: 0, signal: null });
  // The hand-back was not counted as an attempt: the next worker ran attempt 1 again.
  assert.equal(next.lines.find((line) => line.msg === 'batch started')?.attempt, 1);
});
