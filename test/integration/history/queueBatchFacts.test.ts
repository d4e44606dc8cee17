// Batch facts from a real worker in queue mode (job mode is covered by the operator's test):
// a batch that succeeds carries its worker, times and rows; a batch whose attempts fail is
// retried, then dead-lettered, and its facts say failed after two attempts with the error.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { AnvilSession } from '../../../devtools/anvil/erc20Scenario.ts';
import { stackEnv } from '../../../devtools/stackEnv.ts';
import { TcpProxy } from '../worker/tcpProxy.ts';
import { eventually } from '../worker/support.ts';
import { batchStart, WorkerTestWorld } from '../worker/workerHarness.ts';
import { WorkerProcess } from '../worker/workerProcess.ts';

let world: WorkerTestWorld;
let firstBlock: number;

before(async () => {
  world = await WorkerTestWorld.create();
  const anvil = await new AnvilSession(stackEnv().ETH_RPC_URL).init();
  if ((await anvil.blockNumber()) < 1_000) await anvil.mine(1_000);
  firstBlock = batchStart((await anvil.blockNumber()) - 500);
});

after(async () => {
  await world.cleanup();
});

async function factOf(batchId: string, done: (state: string) => boolean) {
  return eventually(
    `the facts of ${batchId}`,
    async () => {
      const fact = await world.progress.readBatchFact(world.runUid, batchId);
      return fact && done(fact.state) ? fact : undefined;
    },
    45_000,
    200,
  );
}

test('a batch that succeeds: its worker, both times, one attempt and the rows it wrote', async () => {
  const worker = await WorkerProcess.start(world.workerEnv({ WORKER_NAME: 'worker-good' }));
  try {
    const message = world.batch('ingest', firstBlock);
    const before = Date.now();
    await world.publish(message);
    const fact = await factOf(message.batchId, (state) => state === 'succeeded');
    const progress = await world.readProgress();
    assert.deepEqual(
      [fact.state, fact.attempts, fact.worker, fact.minBlock, fact.maxBlock, fact.rows, fact.lastError],
      ['succeeded', 1, 'worker-good', firstBlock, firstBlock + 100, progress.rows, undefined],
    );
    assert.ok(before <= fact.startedAt! && fact.startedAt! <= fact.finishedAt!, JSON.stringify(fact));
  } finally {
    await worker.stop();
  }
});

test('a batch whose attempts fail: retried, dead-lettered, failed after two attempts with the error', async () => {
  const dead = await TcpProxy.create({ host: '127.0.0.1', port: 1 }, false);
  const worker = await WorkerProcess.start(
    world.workerEnv({ WORKER_NAME: 'worker-broken', [world.rpcEnvVar]: `http://127.0.0.1:${dead.port}` }),
  );
  try {
    const message = world.batch('ingest', firstBlock + 100, { maxRetriesPerBatch: 1 });
    await world.publish(message);
    const fact = await factOf(message.batchId, (state) => state === 'failed');
    assert.deepEqual(
      [fact.state, fact.attempts, fact.worker, fact.rows],
      ['failed', 2, 'worker-broken', undefined],
    );
    assert.match(fact.lastError ?? '', /ECONNREFUSED/);
    assert.ok(fact.startedAt! <= fact.finishedAt!);
    assert.ok(
      worker.lines.some((line) => line.msg === 'batch retry scheduled'),
      'the first attempt was retried',
    );
  } finally {
    await worker.stop();
  }
});
