// Job mode: the worker works a batch list (or one index of it, as an Indexed Job's pod does)
// and its exit code says whether every batch is complete.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { INGESTION_ROOT_PATHS } from '../../../dataplane/paths.ts';
import { AnvilSession } from '../../support/erc20Fixture.ts';
import { stackEnv } from '../../support/stackEnv.ts';
import { WorkerProcess } from './workerProcess.ts';
import { BATCH_SIZE, batchStart, WorkerTestWorld } from './workerHarness.ts';

let world: WorkerTestWorld;
let firstStart: number;

function jobEnv(batches: unknown[], overrides: Record<string, string> = {}): Record<string, string> {
  const { RABBITMQ_URL: _url, WORKER_QUEUES: _queues, ...env } = world.workerEnv();
  return { ...env, WORKER_MODE: 'job', WORKER_BATCHES: JSON.stringify(batches), ...overrides };
}

before(async () => {
  world = await WorkerTestWorld.create();
  const anvil = await new AnvilSession(stackEnv().ETH_RPC_URL).init();
  if ((await anvil.blockNumber()) < 1_000) await anvil.mine(1_000);
  firstStart = batchStart((await anvil.blockNumber()) - 700);
});

after(async () => {
  await world.cleanup();
});

test('a batch list: every batch done, exit 0', async () => {
  const run = world.runOf('job-list');
  const batches = [0, 1].map((i) => world.batch('ingest', firstStart + i * BATCH_SIZE, run));
  const worker = WorkerProcess.start(jobEnv(batches));
  assert.deepEqual(await worker.exited, { code: 0, signal: null });
  for (const batch of batches) {
    assert.equal(
      await world.markers.isBatchComplete(world.chain, INGESTION_ROOT_PATHS.blocks, batch.minBlock),
      true,
    );
  }
  const progress = await world.readProgress(run.runId.uid);
  assert.deepEqual([progress.succeeded, progress.blocks], [2, 2 * BATCH_SIZE]);
  const finished = worker.lines.find((line) => line.msg === 'job finished');
  assert.equal(finished?.complete, true);
});

test('an Indexed Job pod works only the batch at JOB_COMPLETION_INDEX', async () => {
  const run = world.runOf('job-index');
  const batches = [2, 3, 4].map((i) => world.batch('ingest', firstStart + i * BATCH_SIZE, run));
  const worker = WorkerProcess.start(jobEnv(batches, { JOB_COMPLETION_INDEX: '1' }));
  assert.deepEqual(await worker.exited, { code: 0, signal: null });
  const complete = await Promise.all(
    batches.map((batch) =>
      world.markers.isBatchComplete(world.chain, INGESTION_ROOT_PATHS.blocks, batch.minBlock),
    ),
  );
  assert.deepEqual(complete, [false, true, false]);
  assert.equal((await world.readProgress(run.runId.uid)).succeeded, 1);
});

test('a batch that cannot succeed: recorded as failed, exit 1; bad configuration: exit 2', async () => {
  const run = world.runOf('job-fail');
  const worker = WorkerProcess.start(
    jobEnv([world.batch('no_such_model', firstStart, { ...run, version: 1 })]),
  );
  assert.deepEqual(await worker.exited, { code: 1, signal: null });
  const progress = await world.readProgress(run.runId.uid);
  assert.equal(progress.failed, 1);
  assert.match(progress.failedBatches[0]!.error, /^unknownModel: unknown model "no_such_model"/);

  const misconfigured = WorkerProcess.start(jobEnv([], { WORKER_BATCHES: '', WORKER_BATCHES_FILE: '' }));
  assert.deepEqual(await misconfigured.exited, { code: 2, signal: null });
  assert.match(misconfigured.stderr, /job mode needs exactly one of WORKER_BATCHES and WORKER_BATCHES_FILE/);
});
