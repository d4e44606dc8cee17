// Run progress in the stack's Redis: the counting rules of progressRules.ts hold under
// redelivery (the same report again, concurrent duplicates), and the reader returns them.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import IORedis from 'ioredis';
import { RunProgressStore } from '../../../adapters/redis/progress.ts';
import { uniqueName } from '../../support/names.ts';
import { stackEnv } from '../../../devtools/stackEnv.ts';

let redis: InstanceType<typeof IORedis.Redis>;
let prefix: string;

before(() => {
  redis = new IORedis.Redis(stackEnv().REDIS_URL);
  prefix = `${uniqueName('test-progress')}:`;
});

after(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

const now = new Date('2024-10-01T12:00:00Z');

test('a redelivered batch is counted once: blocks and rows do not double', async () => {
  const store = new RunProgressStore(redis, { prefix });
  const report = {
    runUid: 'run-1',
    batchId: 'local/ingest/0',
    outcome: 'succeeded',
    blocks: 100,
    rows: 250,
    now,
  } as const;
  assert.equal(await store.recordOutcome(report), true);
  assert.equal(await store.recordOutcome(report), false);
  // Ten workers reporting the same batch at once (a storm of redeliveries): still one.
  const concurrent = await Promise.all(Array.from({ length: 10 }, () => store.recordOutcome(report)));
  assert.deepEqual(concurrent.filter(Boolean), []);
  await store.recordOutcome({ ...report, batchId: 'local/ingest/100', rows: 50 });
  const progress = await store.readProgress('run-1');
  assert.equal(progress.succeeded, 2);
  assert.equal(progress.blocks, 200);
  assert.equal(progress.rows, 300);
  assert.deepEqual(progress.lastProgressAt, now);
  assert.equal(progress.failed, 0);
});

test('concurrent first reports of one batch count it exactly once', async () => {
  const store = new RunProgressStore(redis, { prefix });
  const results = await Promise.all(
    Array.from({ length: 20 }, () =>
      store.recordOutcome({
        runUid: 'run-race',
        batchId: 'local/ingest/0',
        outcome: 'succeeded',
        blocks: 10,
        rows: 1,
        now,
      }),
    ),
  );
  assert.equal(results.filter(Boolean).length, 1);
  const progress = await store.readProgress('run-race');
  assert.deepEqual([progress.succeeded, progress.blocks, progress.rows], [1, 10, 1]);
});

test('a failed batch that later succeeds moves from failed to succeeded and leaves the failure list', async () => {
  const store = new RunProgressStore(redis, { prefix });
  const failedAt = new Date('2024-10-01T12:05:00Z');
  await store.recordOutcome({
    runUid: 'run-2',
    batchId: 'local/erc20_transfers/200',
    outcome: 'failed',
    blocks: 100,
    rows: 0,
    error: 'rpc: connection refused',
    attempt: 4,
    now: failedAt,
  });
  let progress = await store.readProgress('run-2');
  assert.equal(progress.failed, 1);
  assert.deepEqual(progress.failedBatches, [
    { batchId: 'local/erc20_transfers/200', error: 'rpc: connection refused', attempt: 4, failedAt },
  ]);
  assert.deepEqual(progress.lastFailureAt, failedAt);
  assert.equal(progress.lastProgressAt, undefined);

  await store.recordOutcome({
    runUid: 'run-2',
    batchId: 'local/erc20_transfers/200',
    outcome: 'succeeded',
    blocks: 100,
    rows: 7,
    now,
  });
  progress = await store.readProgress('run-2');
  assert.deepEqual(
    [progress.failed, progress.succeeded, progress.blocks, progress.rows, progress.failedBatches.length],
    [0, 1, 100, 7, 0],
  );
  // A late failure report from a duplicate delivery does not undo the success.
  assert.equal(
    await store.recordOutcome({
      runUid: 'run-2',
      batchId: 'local/erc20_transfers/200',
      outcome: 'failed',
      blocks: 0,
      rows: 0,
      now,
    }),
    false,
  );
  assert.equal((await store.readProgress('run-2')).succeeded, 1);
});

test('the failure list is bounded; the failed count is not', async () => {
  const store = new RunProgressStore(redis, { prefix, maxFailures: 3 });
  for (let i = 0; i < 5; i += 1) {
    await store.recordOutcome({
      runUid: 'run-3',
      batchId: `local/ingest/${i * 100}`,
      outcome: 'failed',
      blocks: 100,
      rows: 0,
      error: `boom ${i}`,
      now: new Date(now.getTime() + i * 1000),
    });
  }
  const progress = await store.readProgress('run-3');
  assert.equal(progress.failed, 5);
  assert.deepEqual(
    progress.failedBatches.map((failure) => failure.batchId),
    ['local/ingest/200', 'local/ingest/100', 'local/ingest/0'],
  );
});

test('skips and retries are counted; keys carry the prefix and expire', async () => {
  const store = new RunProgressStore(redis, { prefix, ttlSeconds: 600 });
  await store.recordOutcome({
    runUid: 'run-4',
    batchId: 'local/ingest/0',
    outcome: 'skipped',
    blocks: 100,
    rows: 0,
    now,
  });
  await store.recordRetry('run-4', now);
  await store.recordRetry('run-4', now);
  const progress = await store.readProgress('run-4');
  assert.deepEqual([progress.skipped, progress.retried, progress.blocks], [1, 2, 0]);
  const ttl = await redis.ttl(`${prefix}run:run-4:progress`);
  assert.ok(ttl > 0 && ttl <= 600, `ttl ${ttl}`);
  await store.deleteRun('run-4');
  assert.equal((await store.readProgress('run-4')).skipped, 0);
});

test('bad identifiers never reach Redis', async () => {
  const store = new RunProgressStore(redis, { prefix });
  await assert.rejects(
    store.recordOutcome({
      runUid: 'run*',
      batchId: 'local/ingest/0',
      outcome: 'succeeded',
      blocks: 1,
      rows: 1,
      now,
    }),
    /invalid run uid/,
  );
  await assert.rejects(
    store.recordOutcome({
      runUid: 'run-5',
      batchId: 'local/ingest/../0',
      outcome: 'succeeded',
      blocks: 1,
      rows: 1,
      now,
    }),
    /invalid batch id/,
  );
  assert.throws(() => new RunProgressStore(redis, { prefix: 'a b' }), /invalid Redis key prefix/);
});
