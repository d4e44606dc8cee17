// attemptBatch decides what one attempt came to (done, failed for a reason, interrupted) and
// records it in progress and metrics; its runner, progress store, clock and sleep are injected.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RpcError } from '../../../adapters/ethereum/rpcErrors.ts';
import { attemptBatch } from '../../../worker-image/batchAttempt.ts';
import { BatchFailure } from '../../../worker-image/batchFailure.ts';
import { batchMessage, fakeWorld, interruptedRun, NOW, observationsOf, valueOf } from './workerFakes.ts';

const labels = { model: 'ingest', chain: 'local' };

test('a batch that ran is done: progress records it with its blocks and rows, metrics count it', async () => {
  const world = fakeWorld();
  let inFlightWhileRunning = -1;
  world.runner.behaviour = async () => {
    inFlightWhileRunning = await valueOf(world.metrics.inFlight);
    return { skipped: false, rowsByDataset: { blocks: 100, transactions: 42 } };
  };
  const result = await attemptBatch(batchMessage(), new AbortController().signal, world.attemptDeps);

  assert.deepEqual(result, { kind: 'done', outcome: 'succeeded', blocks: 100, rows: 142 });
  assert.deepEqual(world.progress.outcomes, [
    { runUid: 'uid-1', batchId: 'local/ingest/100', outcome: 'succeeded', blocks: 100, rows: 142, now: NOW },
  ]);
  assert.equal(inFlightWhileRunning, 1);
  assert.equal(await valueOf(world.metrics.inFlight), 0);
  assert.equal(await valueOf(world.metrics.batches, { ...labels, result: 'succeeded' }), 1);
  assert.equal(await valueOf(world.metrics.blocksModeled, labels), 100);
  assert.equal(await valueOf(world.metrics.rowsWritten, { ...labels, dataset: 'transactions' }), 42);
  assert.equal((await observationsOf(world.metrics.batchDuration, { result: 'succeeded' })).count, 1);
  assert.deepEqual(world.sleeps, []);
});

test('a batch whose markers were complete is done as skipped: no blocks or rows counted', async () => {
  const world = fakeWorld();
  world.runner.behaviour = async () => ({ skipped: true, rowsByDataset: { blocks: 0 } });
  const result = await attemptBatch(batchMessage(), new AbortController().signal, world.attemptDeps);

  assert.deepEqual(result, { kind: 'done', outcome: 'skipped', blocks: 100, rows: 0 });
  assert.deepEqual(
    world.progress.outcomes.map((report) => report.outcome),
    ['skipped'],
  );
  assert.equal(await valueOf(world.metrics.batches, { ...labels, result: 'skipped' }), 1);
  assert.equal(await valueOf(world.metrics.blocksModeled, labels), 0);
});

for (const reason of ['unknownModel', 'unknownChain'] as const) {
  test(`a batch the runner refuses (${reason}) is not run and fails for good`, async () => {
    const world = fakeWorld();
    world.runner.refusal = { reason, message: `no ${reason} here` };
    const result = await attemptBatch(batchMessage(), new AbortController().signal, world.attemptDeps);

    assert.deepEqual(result, {
      kind: 'failed',
      failure: { reason, retryable: false, message: `no ${reason} here` },
    });
    assert.deepEqual(world.runner.runs, []);
    assert.deepEqual(world.progress.outcomes, [], 'what to record is the caller’s decision');
    assert.equal(await valueOf(world.metrics.batchFailures, { ...labels, reason }), 1);
    assert.equal(await valueOf(world.metrics.inFlight), 0);
  });
}

const failures: [string, unknown, { reason: string; retryable: boolean; message: string }][] = [
  [
    'a tagged service failure',
    new BatchFailure('clickhouse', 'clickhouse: ECONNREFUSED'),
    { reason: 'clickhouse', retryable: true, message: 'clickhouse: ECONNREFUSED' },
  ],
  [
    'an RPC error',
    new RpcError('http', 'eth_getLogs', 'HTTP 503', { retryable: true }),
    { reason: 'rpc', retryable: true, message: 'rpc: eth_getLogs: HTTP 503' },
  ],
  [
    'a model bug',
    new TypeError('x is undefined'),
    { reason: 'model', retryable: true, message: 'x is undefined' },
  ],
];

for (const [name, error, failure] of failures) {
  test(`an attempt that throws ${name} fails with its reason, and records nothing`, async () => {
    const world = fakeWorld();
    world.runner.behaviour = async () => {
      throw error;
    };
    const result = await attemptBatch(batchMessage(), new AbortController().signal, world.attemptDeps);

    assert.deepEqual(result, { kind: 'failed', failure });
    assert.deepEqual(world.progress.outcomes, []);
    assert.equal(await valueOf(world.metrics.batchFailures, { ...labels, reason: failure.reason }), 1);
    assert.equal((await observationsOf(world.metrics.batchDuration, { result: 'failed' })).count, 1);
    assert.equal(await valueOf(world.metrics.batches, { ...labels, result: 'succeeded' }), 0);
  });
}

test('an attempt cut short by the abort signal is interrupted: handed back, not a failure', async () => {
  const world = fakeWorld();
  const abort = new AbortController();
  world.runner.behaviour = interruptedRun(abort);
  const result = await attemptBatch(batchMessage(), abort.signal, world.attemptDeps);

  assert.deepEqual(result, { kind: 'interrupted' });
  assert.deepEqual(world.progress.outcomes, []);
  assert.equal(await valueOf(world.metrics.batchFailures, { ...labels, reason: 'shutdown' }), 1);
  assert.equal(await valueOf(world.metrics.batchFailures, { ...labels, reason: 'model' }), 0);
  assert.equal(await valueOf(world.metrics.inFlight), 0);
});

test('a progress write that fails is retried in place; the batch is done once it goes through', async () => {
  const world = fakeWorld();
  world.progress.failingWrites = 2;
  const result = await attemptBatch(batchMessage(), new AbortController().signal, world.attemptDeps);

  assert.equal(result.kind, 'done');
  assert.equal(world.progress.writeAttempts, 3);
  assert.deepEqual(world.sleeps, [200, 1_000]);
  assert.equal(world.runner.runs.length, 1, 'the batch itself runs once');
  assert.equal(await valueOf(world.metrics.batches, { ...labels, result: 'succeeded' }), 1);
});

test('a progress write that keeps failing fails the attempt as redis (retryable)', async () => {
  const world = fakeWorld();
  world.progress.failingWrites = Infinity;
  const result = await attemptBatch(batchMessage(), new AbortController().signal, world.attemptDeps);

  assert.deepEqual(result, {
    kind: 'failed',
    failure: {
      reason: 'redis',
      retryable: true,
      message: 'redis: progress not recorded: connect ECONNREFUSED 127.0.0.1:6379',
    },
  });
  assert.equal(world.progress.writeAttempts, 4);
  assert.deepEqual(world.sleeps, [200, 1_000, 3_000]);
  assert.equal(await valueOf(world.metrics.batchFailures, { ...labels, reason: 'redis' }), 1);
  assert.equal(await valueOf(world.metrics.batches, { ...labels, result: 'succeeded' }), 0);
});
