// Job mode works its batches once each, in order, on the attempt the Job says; it stops at the
// first batch that does not complete, and never retries in the pod (the Job owns retries).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BlockBatch } from '../../../dataplane/batches.ts';
import { BatchFailure } from '../../../worker-image/batchFailure.ts';
import { runJobBatches } from '../../../worker-image/jobMode.ts';
import { fakeWorld, interruptedRun, NOW, RUN, valueOf } from './workerFakes.ts';

const BATCHES: BlockBatch[] = [
  { minBlock: 100, maxBlock: 200 },
  { minBlock: 200, maxBlock: 300 },
  { minBlock: 300, maxBlock: 400 },
];

test('every batch done: complete, one attempt each, on the attempt the Job gave', async () => {
  const world = fakeWorld();
  world.runner.behaviour = async ({ message }) => ({
    skipped: message.minBlock === 200,
    rowsByDataset: { blocks: 100 },
  });
  const outcome = await runJobBatches(RUN, BATCHES, 3, new AbortController().signal, world.attemptDeps);

  assert.deepEqual(outcome, {
    complete: true,
    results: [
      { batchId: 'local/ingest/100', result: 'succeeded' },
      { batchId: 'local/ingest/200', result: 'skipped' },
      { batchId: 'local/ingest/300', result: 'succeeded' },
    ],
  });
  assert.deepEqual(
    world.runner.runs.map((message) => [message.batchId, message.attempt, message.enqueuedAt]),
    BATCHES.map((batch) => [`local/ingest/${batch.minBlock}`, 3, NOW.toISOString()]),
  );
  assert.deepEqual(
    world.progress.outcomes.map((report) => report.outcome),
    ['succeeded', 'skipped', 'succeeded'],
  );
});

test('a failure stops the pod at once: one attempt, recorded as failed with its attempt, not complete', async () => {
  const world = fakeWorld();
  world.runner.behaviour = async ({ message }) => {
    if (message.minBlock === 200) throw new BatchFailure('clickhouse', 'clickhouse: ECONNREFUSED');
    return { skipped: false, rowsByDataset: { blocks: 100 } };
  };
  const outcome = await runJobBatches(RUN, BATCHES, 2, new AbortController().signal, world.attemptDeps);

  assert.deepEqual(outcome, {
    complete: false,
    results: [
      { batchId: 'local/ingest/100', result: 'succeeded' },
      {
        batchId: 'local/ingest/200',
        result: 'failed',
        error: 'clickhouse: clickhouse: ECONNREFUSED',
      },
    ],
  });
  assert.deepEqual(
    world.runner.runs.map((message) => message.batchId),
    ['local/ingest/100', 'local/ingest/200'],
    'the failed batch is tried once, and the next is not started',
  );
  assert.deepEqual(world.sleeps, [], 'no waiting for a retry in the pod');
  assert.deepEqual(world.progress.reported(), [
    { batchId: 'local/ingest/100', outcome: 'succeeded' },
    {
      batchId: 'local/ingest/200',
      outcome: 'failed',
      error: 'clickhouse: clickhouse: ECONNREFUSED',
      attempt: 2,
    },
  ]);
  assert.deepEqual(world.progress.retries, []);
});

test('a batch the runner refuses fails the pod without running it', async () => {
  const world = fakeWorld();
  world.runner.refusal = { reason: 'unknownModel', message: 'unknown model "ingest"' };
  const outcome = await runJobBatches(RUN, BATCHES, 1, new AbortController().signal, world.attemptDeps);

  assert.deepEqual(outcome, {
    complete: false,
    results: [
      { batchId: 'local/ingest/100', result: 'failed', error: 'unknownModel: unknown model "ingest"' },
    ],
  });
  assert.deepEqual(world.runner.runs, []);
  assert.equal(
    await valueOf(world.metrics.batches, { model: 'ingest', chain: 'local', result: 'failed' }),
    1,
  );
});

test('interrupted mid-batch: the pod stops, nothing is recorded as failed, not complete', async () => {
  const world = fakeWorld();
  const abort = new AbortController();
  const interrupted = interruptedRun(abort);
  world.runner.behaviour = async (request) =>
    request.message.minBlock === 100 ? { skipped: false, rowsByDataset: {} } : interrupted(request);
  const outcome = await runJobBatches(RUN, BATCHES, 1, abort.signal, world.attemptDeps);

  assert.deepEqual(outcome, {
    complete: false,
    results: [
      { batchId: 'local/ingest/100', result: 'succeeded' },
      { batchId: 'local/ingest/200', result: 'interrupted' },
    ],
  });
  assert.equal(world.runner.runs.length, 2);
  assert.deepEqual(
    world.progress.outcomes.map((report) => report.outcome),
    ['succeeded'],
  );
});

test('a signal aborted before a batch starts: the batch is not started', async () => {
  const world = fakeWorld();
  const abort = new AbortController();
  abort.abort(new Error('worker shutting down'));
  const outcome = await runJobBatches(RUN, BATCHES, 1, abort.signal, world.attemptDeps);

  assert.deepEqual(outcome, {
    complete: false,
    results: [{ batchId: 'local/ingest/100', result: 'interrupted' }],
  });
  assert.deepEqual(world.runner.runs, []);
});

test('a pod working a whole run works `concurrency` batches at a time, results in batch order', async () => {
  const world = fakeWorld();
  let inFlight = 0;
  let mostInFlight = 0;
  const finish = new Map<number, () => void>();
  world.runner.behaviour = async ({ message }) => {
    inFlight++;
    mostInFlight = Math.max(mostInFlight, inFlight);
    await new Promise<void>((resolve) => finish.set(message.minBlock, resolve));
    inFlight--;
    return { skipped: false, rowsByDataset: { blocks: 100 } };
  };
  const outcome = runJobBatches(RUN, BATCHES, 1, new AbortController().signal, world.attemptDeps, 2);
  await waitFor(() => finish.size === 2);
  assert.deepEqual([...finish.keys()], [100, 200], 'the first two start together');
  finish.get(200)!(); // the second finishes first: the third starts beside the first
  await waitFor(() => finish.size === 3);
  finish.get(100)!();
  finish.get(300)!();

  assert.deepEqual(await outcome, {
    complete: true,
    results: BATCHES.map((batch) => ({ batchId: `local/ingest/${batch.minBlock}`, result: 'succeeded' })),
  });
  assert.equal(mostInFlight, 2);
});

test('with batches side by side, a failure starts no other, and the one under way finishes', async () => {
  const world = fakeWorld();
  let releaseFirst: (() => void) | undefined;
  world.runner.behaviour = async ({ message }) => {
    if (message.minBlock === 200) throw new BatchFailure('clickhouse', 'clickhouse: ECONNREFUSED');
    await new Promise<void>((resolve) => (releaseFirst = resolve));
    return { skipped: false, rowsByDataset: { blocks: 100 } };
  };
  const outcome = runJobBatches(RUN, BATCHES, 1, new AbortController().signal, world.attemptDeps, 2);
  await waitFor(() => world.progress.reported().length === 1);
  releaseFirst!();

  assert.deepEqual(await outcome, {
    complete: false,
    results: [
      { batchId: 'local/ingest/100', result: 'succeeded' },
      { batchId: 'local/ingest/200', result: 'failed', error: 'clickhouse: clickhouse: ECONNREFUSED' },
    ],
  });
  assert.deepEqual(
    world.runner.runs.map((message) => message.batchId),
    ['local/ingest/100', 'local/ingest/200'],
    'the third batch is never started',
  );
});

/** Yields to the event loop until `condition` holds (a fake world settles in a few turns). */
async function waitFor(condition: () => boolean): Promise<void> {
  for (let turn = 0; turn < 1_000 && !condition(); turn++)
    await new Promise((resolve) => setImmediate(resolve));
  assert.ok(condition(), 'the condition never held');
}
