// Batch facts in the stack's Redis: the Lua script applies the same rules as the TypeScript
// function (the shared case table), and the change feed returns every change after a cursor
// exactly once, for the runs asked about.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import IORedis from 'ioredis';
import type { BatchFactEvent } from '../../../contract/batchFacts.ts';
import { MAX_FACT_ERROR_CHARS } from '../../../adapters/redis/batchFacts.ts';
import { RunProgressStore } from '../../../adapters/redis/progress.ts';
import { stackEnv } from '../../../devtools/stackEnv.ts';
import { BATCH_FACT_CASES } from '../../support/batchFactCases.ts';
import { uniqueName } from '../../support/names.ts';

let redis: InstanceType<typeof IORedis.Redis>;
let prefix: string;
let store: RunProgressStore;

before(() => {
  redis = new IORedis.Redis(stackEnv().REDIS_URL);
  prefix = `${uniqueName('test-facts')}:`;
  store = new RunProgressStore(redis, { prefix });
});

after(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

BATCH_FACT_CASES.forEach(({ name, events, expected }, index) => {
  test(`the Lua script agrees with the rule table: ${name}`, async () => {
    const runUid = `case-${index}`;
    for (const event of events) await store.recordBatchFact(runUid, 'local/ingest/100', event);
    const stored = await store.readBatchFact(runUid, 'local/ingest/100');
    assert.deepEqual(
      stored,
      expected === undefined ? undefined : { batchId: 'local/ingest/100', ...expected },
    );
  });
});

const started = (minBlock: number, at: number): BatchFactEvent => ({
  kind: 'started',
  minBlock,
  maxBlock: minBlock + 100,
  attempt: 1,
  worker: 'pod-1',
  at,
});

test('the change feed: every change after the cursor once, only for the runs wanted', async () => {
  const feedPrefix = `${uniqueName('test-feed')}:`;
  const feed = new RunProgressStore(redis, { prefix: feedPrefix });
  try {
    const first = await feed.readBatchFactChanges(0);
    assert.deepEqual([first.cursor, first.byRun.size], [0, 0], 'nothing reported yet');

    await feed.recordBatchFact('run-a', 'local/ingest/0', started(0, 1));
    await feed.recordBatchFact('run-a', 'local/ingest/100', started(100, 2));
    await feed.recordBatchFact('run-b', 'local/ingest/0', started(0, 3));
    const all = await feed.readBatchFactChanges(0);
    assert.equal(all.cursor, 3);
    assert.deepEqual(
      [...all.byRun].map(([uid, facts]) => [uid, facts.map((fact) => fact.batchId).sort()]),
      [
        ['run-a', ['local/ingest/0', 'local/ingest/100']],
        ['run-b', ['local/ingest/0']],
      ],
    );

    const none = await feed.readBatchFactChanges(all.cursor);
    assert.deepEqual([none.cursor, none.byRun.size], [3, 0], 'nothing new after the cursor');

    await feed.recordBatchFact('run-a', 'local/ingest/100', {
      ...started(100, 4),
      kind: 'finished',
      state: 'succeeded',
      rows: 12,
    });
    await feed.recordBatchFact('run-b', 'local/ingest/100', started(100, 5));
    const onlyA = await feed.readBatchFactChanges(all.cursor, (uid) => uid === 'run-a');
    assert.equal(onlyA.cursor, 5, 'the cursor passes the changes of runs not wanted too');
    assert.deepEqual(
      [...onlyA.byRun].map(([uid, facts]) => [
        uid,
        facts.map((fact) => [fact.batchId, fact.state, fact.rows]),
      ]),
      [['run-a', [['local/ingest/100', 'succeeded', 12]]]],
    );

    const unchanged = await feed.recordBatchFact('run-a', 'local/ingest/100', started(100, 6));
    assert.equal(unchanged, false, 'a start after success changes nothing');
    assert.equal((await feed.readBatchFactChanges(5)).byRun.size, 0, 'and is no change in the feed');

    assert.deepEqual(
      (await feed.readBatchFacts('run-a')).map((fact) => [fact.minBlock, fact.state]),
      [
        [0, 'running'],
        [100, 'succeeded'],
      ],
    );
    await feed.deleteRun('run-a');
    assert.deepEqual(await feed.readBatchFacts('run-a'), []);
    assert.deepEqual([...(await feed.readBatchFactChanges(0)).byRun.keys()], ['run-b']);
  } finally {
    const keys = await redis.keys(`${feedPrefix}*`);
    if (keys.length > 0) await redis.del(...keys);
  }
});

test('facts are refused when they would carry something invalid; long errors are cut', async () => {
  await assert.rejects(store.recordBatchFact('run-c', 'not a batch id', started(0, 1)), /invalid batch id/);
  await assert.rejects(
    store.recordBatchFact('run-c', 'local/ingest/0', { ...started(0, 1), worker: 'bad worker name' }),
    /invalid worker name/,
  );
  await assert.rejects(
    store.recordBatchFact('run-c', 'local/ingest/0', { ...started(0, 1), minBlock: -1 }),
    /invalid minBlock/,
  );
  await store.recordBatchFact('run-c', 'local/ingest/0', {
    ...started(0, 1),
    kind: 'finished',
    state: 'failed',
    error: 'x'.repeat(MAX_FACT_ERROR_CHARS + 500),
  });
  assert.equal(
    (await store.readBatchFact('run-c', 'local/ingest/0'))?.lastError?.length,
    MAX_FACT_ERROR_CHARS,
  );
});

test('the facts keys expire with the run, the sequence does not', async () => {
  await store.recordBatchFact('run-ttl', 'local/ingest/0', started(0, 1));
  const keys = store.keys('run-ttl');
  assert.ok((await redis.ttl(keys.batchFacts)) > 0);
  assert.ok((await redis.ttl(keys.batchChanges)) > 0);
  assert.equal(await redis.ttl(`${prefix}batch-facts:seq`), -1);
});
