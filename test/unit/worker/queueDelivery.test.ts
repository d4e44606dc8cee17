// The delivery handler of queue mode settles every delivery, and acks only once the batch's fate
// is safe elsewhere (committed, or a copy confirmed on a retry tier or the DLQ); when that copy
// cannot be published, the delivery goes back to its queue.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Delivery } from '../../../adapters/rabbitmq/consumer.ts';
import { encodeBatchMessage, type BatchMessage } from '../../../contract/batchMessage.ts';
import { BatchFailure } from '../../../worker-image/batchFailure.ts';
import { createDeliveryHandler } from '../../../worker-image/queueDelivery.ts';
import {
  batchMessage,
  fakeWorld,
  interruptedRun,
  NOW,
  observationsOf,
  RETRY_DELAYS_MS,
  valueOf,
  type FakeWorld,
} from './workerFakes.ts';

const QUEUE = 'local_backfill_nonreads';
const labels = { model: 'ingest', chain: 'local' };

function deliveryOf(body: Buffer | string, queue = QUEUE): Delivery {
  return {
    queue,
    body: Buffer.from(body),
    redelivered: false,
    deliveryCount: 0,
    headers: {},
  };
}

async function deliver(
  world: FakeWorld,
  message: BatchMessage | string,
  options: { queue?: string; signal?: AbortSignal } = {},
) {
  const body = typeof message === 'string' ? message : encodeBatchMessage(message);
  const handler = createDeliveryHandler(world.queueDeps);
  return handler(deliveryOf(body, options.queue), options.signal ?? new AbortController().signal);
}

function failWith(world: FakeWorld, error: Error): void {
  world.runner.behaviour = async () => {
    throw error;
  };
}

test('a batch that is done is acked, and nothing else is published', async () => {
  const world = fakeWorld();
  assert.equal(await deliver(world, batchMessage(1, 30_000)), 'ack');
  assert.equal(world.runner.runs.length, 1);
  assert.deepEqual([world.publisher.retries, world.publisher.deadLetters], [[], []]);
  assert.deepEqual(
    world.progress.outcomes.map((report) => report.outcome),
    ['succeeded'],
  );
  assert.deepEqual(await observationsOf(world.metrics.timeInQueue, { queue: QUEUE }), { count: 1, sum: 30 });
});

test('a batch of a cancelled run (deleted, or ended early) is acked and not worked', async () => {
  const world = fakeWorld();
  const message = batchMessage(1, 0);
  world.progress.cancelled.add(message.runId.uid);
  assert.equal(await deliver(world, message), 'ack');
  assert.equal(world.runner.runs.length, 0);
  assert.deepEqual(world.progress.outcomes, []);
  assert.deepEqual([world.publisher.retries, world.publisher.deadLetters], [[], []]);
});

test('when whether the run is cancelled cannot be read (Redis down), the batch is worked', async () => {
  const world = fakeWorld();
  world.progress.failCancelledReads = true;
  assert.equal(await deliver(world, batchMessage(1, 0)), 'ack');
  assert.equal(world.runner.runs.length, 1);
});

test('a body that is not a batch is dead-lettered as malformed, as it came, and acked', async () => {
  const world = fakeWorld();
  assert.equal(await deliver(world, '{"runId": {"namespace"'), 'ack');
  assert.equal(world.publisher.deadLetters.length, 1);
  const [letter] = world.publisher.deadLetters;
  assert.equal(letter!.queue, QUEUE);
  assert.equal(letter!.body, '{"runId": {"namespace"');
  assert.equal(letter!.details.reason, 'malformed');
  assert.match(letter!.details.error, /^message is not JSON/);
  assert.equal(letter!.details.workerName, 'worker-test');
  assert.deepEqual(world.runner.runs, []);
  assert.deepEqual(world.progress.outcomes, [], 'no readable run to record it under');
  assert.equal(
    await valueOf(world.metrics.batchFailures, { model: 'unknown', chain: 'unknown', reason: 'malformed' }),
    1,
  );
});

test('a batch on another chain’s lane is dead-lettered as misrouted and put on its run’s failed list', async () => {
  const world = fakeWorld();
  assert.equal(await deliver(world, batchMessage(2), { queue: 'op_backfill_nonreads' }), 'ack');
  assert.deepEqual(world.runner.runs, []);
  assert.deepEqual(
    world.publisher.deadLetters.map((letter) => [letter.queue, letter.details]),
    [
      [
        'op_backfill_nonreads',
        {
          reason: 'misrouted',
          error: 'batch of chain local on queue op_backfill_nonreads, which carries chain op',
          attempt: 2,
          workerName: 'worker-test',
        },
      ],
    ],
  );
  assert.deepEqual(world.progress.reported(), [
    {
      batchId: 'local/ingest/100',
      outcome: 'failed',
      error: 'misrouted: batch of chain local on queue op_backfill_nonreads, which carries chain op',
      attempt: 2,
    },
  ]);
  assert.equal(await valueOf(world.metrics.batches, { ...labels, result: 'deadLettered' }), 1);
});

test('a retryable failure with retries left is published to its retry tier, then acked', async () => {
  const world = fakeWorld();
  failWith(world, new BatchFailure('clickhouse', 'clickhouse: ECONNREFUSED'));
  assert.equal(await deliver(world, batchMessage(2)), 'ack');

  assert.equal(world.publisher.retries.length, 1);
  const [retry] = world.publisher.retries;
  assert.equal(retry!.queue, QUEUE);
  assert.equal(retry!.delayMs, RETRY_DELAYS_MS[1], 'the second failure waits in the second tier');
  assert.deepEqual(retry!.message, {
    ...batchMessage(2),
    attempt: 3,
    enqueuedAt: new Date(NOW.getTime() + RETRY_DELAYS_MS[1]!).toISOString(),
  });
  assert.equal(retry!.lastError, 'clickhouse: clickhouse: ECONNREFUSED');
  assert.deepEqual(world.publisher.deadLetters, []);
  assert.deepEqual(world.progress.retries, [{ runUid: 'uid-1', now: NOW }]);
  assert.deepEqual(world.progress.outcomes, [], 'not failed yet');
  assert.equal(await valueOf(world.metrics.batches, { ...labels, result: 'retried' }), 1);
});

test('a retry that cannot be counted in progress is still acked: the retry is on its tier', async () => {
  const world = fakeWorld();
  world.progress.failRetries = true;
  failWith(world, new BatchFailure('kafka', 'kafka: timeout'));
  assert.equal(await deliver(world, batchMessage(1)), 'ack');
  assert.equal(world.publisher.retries.length, 1);
});

test('publishing the retry fails: the delivery goes back to its queue, nothing is counted', async () => {
  const world = fakeWorld();
  world.publisher.failRetries = true;
  failWith(world, new BatchFailure('clickhouse', 'clickhouse: ECONNREFUSED'));
  assert.equal(await deliver(world, batchMessage(1)), 'requeue');
  assert.deepEqual([world.publisher.retries, world.publisher.deadLetters], [[], []]);
  assert.deepEqual(world.progress.retries, []);
  assert.deepEqual(world.progress.outcomes, []);
  assert.equal(await valueOf(world.metrics.batches, { ...labels, result: 'retried' }), 0);
});

test('out of retries: dead-lettered with the reason of the last failure, failed in progress, acked', async () => {
  const world = fakeWorld();
  failWith(world, new BatchFailure('rpc', 'rpc: eth_getLogs: HTTP 503'));
  // maxRetriesPerBatch is 2: attempt 3 is the last.
  assert.equal(await deliver(world, batchMessage(3)), 'ack');

  assert.deepEqual(world.publisher.retries, []);
  assert.deepEqual(
    world.publisher.deadLetters.map((letter) => letter.details),
    [
      {
        reason: 'rpc',
        error: 'gave up after 3 attempts: rpc: eth_getLogs: HTTP 503',
        attempt: 3,
        workerName: 'worker-test',
      },
    ],
  );
  assert.equal(world.publisher.deadLetters[0]!.body, encodeBatchMessage(batchMessage(3)).toString());
  assert.deepEqual(world.progress.reported(), [
    {
      batchId: 'local/ingest/100',
      outcome: 'failed',
      error: 'rpc: gave up after 3 attempts: rpc: eth_getLogs: HTTP 503',
      attempt: 3,
    },
  ]);
  assert.equal(await valueOf(world.metrics.batches, { ...labels, result: 'deadLettered' }), 1);
});

test('a failure no retry can fix is dead-lettered on its first attempt', async () => {
  const world = fakeWorld();
  world.runner.refusal = { reason: 'unknownModel', message: 'unknown model "ingest"' };
  assert.equal(await deliver(world, batchMessage(1)), 'ack');
  assert.deepEqual(world.publisher.retries, []);
  assert.deepEqual(
    world.publisher.deadLetters.map((letter) => [letter.details.reason, letter.details.error]),
    [['unknownModel', 'not retryable: unknown model "ingest"']],
  );
  assert.deepEqual(
    world.progress.outcomes.map((report) => report.outcome),
    ['failed'],
  );
});

const deadLetterCases: {
  name: string;
  queue: string;
  message: BatchMessage | string;
  prepare?: (world: FakeWorld) => void;
}[] = [
  { name: 'a malformed body', queue: QUEUE, message: 'not json' },
  { name: 'a misrouted batch', queue: 'op_backfill_nonreads', message: batchMessage(1) },
  {
    name: 'a batch out of retries',
    queue: QUEUE,
    message: batchMessage(3),
    prepare: (world) => failWith(world, new BatchFailure('rpc', 'rpc: down')),
  },
];

for (const { name, queue, message, prepare } of deadLetterCases) {
  test(`publishing the dead letter fails (${name}): the delivery goes back to its queue`, async () => {
    const world = fakeWorld();
    world.publisher.failDeadLetters = true;
    prepare?.(world);
    assert.equal(await deliver(world, message, { queue }), 'requeue');
    assert.deepEqual([world.publisher.retries, world.publisher.deadLetters], [[], []]);
    assert.deepEqual(world.progress.outcomes, [], 'not failed: the batch is back on its queue');
    assert.equal(await valueOf(world.metrics.batches, { ...labels, result: 'deadLettered' }), 0);
  });
}

test('a batch interrupted by shutdown goes back to its queue untouched: no retry, no dead letter', async () => {
  const world = fakeWorld();
  const abort = new AbortController();
  world.runner.behaviour = interruptedRun(abort);
  assert.equal(await deliver(world, batchMessage(1), { signal: abort.signal }), 'requeue');
  assert.deepEqual([world.publisher.retries, world.publisher.deadLetters], [[], []]);
  assert.deepEqual([world.progress.outcomes, world.progress.retries], [[], []]);
  assert.equal(await valueOf(world.metrics.batches, { ...labels, result: 'requeued' }), 1);
});
