// Run progress in the stack's Redis: the Lua script applies the rules of progressRules.ts
// (every case of the shared table, and the failure list's cap), they hold under redelivery
// (the same report again, concurrent duplicates), and the reader returns them.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import IORedis from 'ioredis';
import { RunProgressStore, type BatchReport } from '../../../adapters/redis/progress.ts';
import { outcomeChange, type BatchOutcome } from '../../../adapters/redis/progressRules.ts';
import { uniqueName } from '../../support/names.ts';
import { describeCase, OUTCOME_CASES } from '../../support/progressRuleCases.ts';
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

/** A run's three keys as plain data: what the Lua script leaves behind. */
interface StoredProgress {
  counts: Record<BatchOutcome | 'blocks' | 'rows', number>;
  lastProgressAt: number | undefined;
  lastFailureAt: number | undefined;
  outcomes: Record<string, string>;
  failures: Record<string, unknown>;
}

const PROGRESS_FIELDS = [
  'succeeded',
  'skipped',
  'failed',
  'blocks',
  'rows',
  'lastProgressAt',
  'lastFailureAt',
];

function emptyProgress(): StoredProgress {
  return {
    counts: { succeeded: 0, skipped: 0, failed: 0, blocks: 0, rows: 0 },
    lastProgressAt: undefined,
    lastFailureAt: undefined,
    outcomes: {},
    failures: {},
  };
}

async function storedProgress(store: RunProgressStore, runUid: string): Promise<StoredProgress> {
  const keys = store.keys(runUid);
  const [progress, outcomes, failures] = await Promise.all([
    redis.hgetall(keys.progress),
    redis.hgetall(keys.outcomes),
    redis.hgetall(keys.failures),
  ]);
  assert.deepEqual(
    Object.keys(progress).filter((field) => !PROGRESS_FIELDS.includes(field)),
    [],
    'no other progress field',
  );
  const count = (field: string) => Number(progress[field] ?? 0);
  const time = (field: string) => (progress[field] === undefined ? undefined : Number(progress[field]));
  return {
    counts: {
      succeeded: count('succeeded'),
      skipped: count('skipped'),
      failed: count('failed'),
      blocks: count('blocks'),
      rows: count('rows'),
    },
    lastProgressAt: time('lastProgressAt'),
    lastFailureAt: time('lastFailureAt'),
    outcomes,
    failures: Object.fromEntries(
      Object.entries(failures).map(([batchId, json]) => [batchId, JSON.parse(json) as unknown]),
    ),
  };
}

/**
 * What the keys must hold after `report`: the change is outcomeChange's; the rest is the key
 * layout of progress.ts (blocks and rows count for succeeded only, a failure is listed while
 * the list has room and leaves it when the batch is no longer failed).
 */
function expectedAfter(
  state: StoredProgress,
  report: BatchReport,
  maxFailures: number,
): { counted: boolean; state: StoredProgress } {
  const change = outcomeChange(state.outcomes[report.batchId] as BatchOutcome | undefined, report.outcome);
  if (!change.counted) return { counted: false, state };
  const next = structuredClone(state);
  next.outcomes[report.batchId] = report.outcome;
  if (change.decrement) {
    next.counts[change.decrement] -= 1;
    delete next.failures[report.batchId];
  }
  if (change.increment) next.counts[change.increment] += 1;
  if (change.increment === 'succeeded') {
    next.counts.blocks += report.blocks;
    next.counts.rows += report.rows;
  }
  if (change.increment === 'failed') {
    next.lastFailureAt = report.now.getTime();
    if (Object.keys(next.failures).length < maxFailures) {
      next.failures[report.batchId] = {
        error: report.error,
        attempt: report.attempt,
        failedAt: report.now.getTime(),
      };
    }
  } else {
    next.lastProgressAt = report.now.getTime();
  }
  return { counted: true, state: next };
}

/** The `step`-th report of a test: its own time, rows and error, so each leaves a trace. */
function reportOf(runUid: string, batchId: string, outcome: BatchOutcome, step: number): BatchReport {
  return {
    runUid,
    batchId,
    outcome,
    blocks: 100,
    rows: 10 + step,
    ...(outcome === 'failed' ? { error: `boom ${step}`, attempt: step } : {}),
    now: new Date(now.getTime() + step * 1_000),
  };
}

/** Records `report` and checks the return value and all three keys against the model. */
async function recordAndCompare(
  store: RunProgressStore,
  state: StoredProgress,
  report: BatchReport,
  maxFailures: number,
): Promise<{ counted: boolean; state: StoredProgress }> {
  const expected = expectedAfter(state, report, maxFailures);
  const what = `${report.batchId} ${report.outcome} at ${report.now.toISOString()}`;
  assert.equal(await store.recordOutcome(report), expected.counted, `counted: ${what}`);
  assert.deepEqual(await storedProgress(store, report.runUid), expected.state, `stored: ${what}`);
  return expected;
}

for (const [index, outcomeCase] of OUTCOME_CASES.entries()) {
  test(`the Lua script applies the rule ${describeCase(outcomeCase)}`, async () => {
    const store = new RunProgressStore(redis, { prefix });
    const runUid = `pair-${index}`;
    const batchId = 'local/ingest/0';
    let state = emptyProgress();
    if (outcomeCase.previous !== undefined) {
      ({ state } = await recordAndCompare(
        store,
        state,
        reportOf(runUid, batchId, outcomeCase.previous, 1),
        10,
      ));
    }
    const { counted } = await recordAndCompare(
      store,
      state,
      reportOf(runUid, batchId, outcomeCase.next, 2),
      10,
    );
    assert.equal(counted, outcomeCase.change.counted);
  });
}

test('the Lua script keeps the failure list within its cap, and makes room as batches recover', async () => {
  const maxFailures = 2;
  const store = new RunProgressStore(redis, { prefix, maxFailures });
  const runUid = 'capped';
  const batch = (i: number) => `local/ingest/${i * 100}`;
  const steps: [number, BatchOutcome][] = [
    [0, 'failed'],
    [1, 'failed'],
    [2, 'failed'], // the list is full: counted, not listed
    [0, 'succeeded'], // leaves the list
    [3, 'failed'], // fits again
    [2, 'failed'], // a repeat: nothing
    [1, 'skipped'], // leaves the list
    [2, 'succeeded'], // never listed: nothing to remove
    [0, 'failed'], // a late failure after a success: nothing
    [3, 'succeeded'],
  ];
  let state = emptyProgress();
  for (const [step, [i, outcome]] of steps.entries()) {
    ({ state } = await recordAndCompare(
      store,
      state,
      reportOf(runUid, batch(i), outcome, step + 1),
      maxFailures,
    ));
    if (step === 2) {
      assert.equal(state.counts.failed, 3);
      assert.deepEqual(Object.keys(state.failures).sort(), [batch(0), batch(1)]);
    }
  }
  assert.deepEqual(state.counts, { succeeded: 3, skipped: 1, failed: 0, blocks: 300, rows: 14 + 18 + 20 });
  assert.deepEqual(state.failures, {});
});

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
