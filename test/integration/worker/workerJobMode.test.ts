// Job mode: a pod of a ModelRun's Indexed Job gets the run (WORKER_RUN) and its completion
// index, derives its batch from the run's range by the chain's batch sizes, makes one attempt
// (the Job owns the retries), and its exit code says whether the batch is complete.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { RunRequest } from '../../../contract/batchMessage.ts';
import { INGESTION_ROOT_PATHS } from '../../../dataplane/paths.ts';
import { AnvilSession } from '../../../devtools/anvil/erc20Scenario.ts';
import { stackEnv } from '../../../devtools/stackEnv.ts';
import { WorkerProcess } from './workerProcess.ts';
import { BATCH_SIZE, batchStart, WorkerTestWorld } from './workerHarness.ts';
import { modelRegistry } from '../../../models/registry.ts';

let world: WorkerTestWorld;
let firstStart: number;

function jobEnv(run: RunRequest | undefined, overrides: Record<string, string> = {}): Record<string, string> {
  const { RABBITMQ_URL: _url, WORKER_QUEUES: _queues, ...env } = world.workerEnv();
  return { ...env, WORKER_MODE: 'job', ...(run ? { WORKER_RUN: JSON.stringify(run) } : {}), ...overrides };
}

/** A run of `model` over `batches` batches from the `first`-th batch after firstStart. */
function runOver(name: string, model: string, first: number, batches: number): RunRequest {
  return {
    runId: world.runOf(name).runId,
    model,
    // An unknown model is a case of its own below: its version does not matter.
    version: modelRegistry.has(model) ? modelRegistry.get(model).version : 1,
    chain: world.chain,
    range: {
      minBlock: firstStart + first * BATCH_SIZE,
      maxBlock: firstStart + (first + batches) * BATCH_SIZE,
    },
    force: false,
    maxRetriesPerBatch: 2,
  };
}

const blocksComplete = (minBlock: number) =>
  world.markers.isBatchComplete(world.chain, INGESTION_ROOT_PATHS.blocks, minBlock);

before(async () => {
  world = await WorkerTestWorld.create();
  const anvil = await new AnvilSession(stackEnv().ETH_RPC_URL).init();
  if ((await anvil.blockNumber()) < 1_000) await anvil.mine(1_000);
  firstStart = batchStart((await anvil.blockNumber()) - 700);
});

after(async () => {
  await world.cleanup();
});

test('without an index, the pod works every batch of the run: exit 0', async () => {
  const run = runOver('job-all', 'ingest', 0, 2);
  const worker = await WorkerProcess.start(jobEnv(run));
  assert.deepEqual(await worker.exit(), { code: 0, signal: null });
  assert.deepEqual(await Promise.all([0, 1].map((i) => blocksComplete(firstStart + i * BATCH_SIZE))), [
    true,
    true,
  ]);
  const progress = await world.readProgress(run.runId.uid);
  assert.deepEqual([progress.succeeded, progress.blocks], [2, 2 * BATCH_SIZE]);
  assert.equal(worker.lines.find((line) => line.msg === 'job finished')?.complete, true);
});

test('an Indexed Job pod works only the batch at JOB_COMPLETION_INDEX', async () => {
  const run = runOver('job-index', 'ingest', 2, 3);
  const worker = await WorkerProcess.start(jobEnv(run, { JOB_COMPLETION_INDEX: '1' }));
  assert.deepEqual(await worker.exit(), { code: 0, signal: null });
  const complete = await Promise.all([2, 3, 4].map((i) => blocksComplete(firstStart + i * BATCH_SIZE)));
  assert.deepEqual(complete, [false, true, false]);
  assert.equal((await world.readProgress(run.runId.uid)).succeeded, 1);
});

test('a batch that cannot succeed: one attempt, recorded as failed with its attempt, exit 1', async () => {
  const run = runOver('job-fail', 'no_such_model', 0, 1);
  const worker = await WorkerProcess.start(
    jobEnv(run, { JOB_COMPLETION_INDEX: '0', JOB_INDEX_FAILURE_COUNT: '1' }),
  );
  assert.deepEqual(await worker.exit(), { code: 1, signal: null });
  const progress = await world.readProgress(run.runId.uid);
  assert.deepEqual([progress.failed, progress.retried], [1, 0], 'no retry inside the pod: the Job retries');
  assert.match(progress.failedBatches[0]!.error, /^unknownModel: unknown model "no_such_model"/);
  assert.equal(progress.failedBatches[0]!.attempt, 2, 'the attempt comes from JOB_INDEX_FAILURE_COUNT');
});

test('bad configuration exits 2: no run, or an index past the run', async () => {
  const missing = await WorkerProcess.start(jobEnv(undefined));
  assert.deepEqual(await missing.exit(), { code: 2, signal: null });
  assert.match(missing.stderr, /WORKER_RUN is required/);
  const beyond = await WorkerProcess.start(
    jobEnv(runOver('job-beyond', 'ingest', 0, 2), { JOB_COMPLETION_INDEX: '2' }),
  );
  assert.deepEqual(await beyond.exit(), { code: 2, signal: null });
  assert.ok(
    beyond.lines.some((line) =>
      /JOB_COMPLETION_INDEX 2 is beyond the run's 2 batches/.test(String(line.err)),
    ),
  );
});
