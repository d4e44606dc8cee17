// The run history's schema and store on the stack's Postgres: migrations are idempotent and
// safe to run from many operators at once; upserts are idempotent, batched and guarded; the
// queries the CLI uses read back exactly what was written.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import type { ModelRunBatchRow, ModelRunRow } from '../../../contract/runHistory.ts';
import { HISTORY_MIGRATIONS, migrateHistorySchema } from '../../../adapters/postgres/historySchema.ts';
import { RunHistoryStore } from '../../../adapters/postgres/runHistoryStore.ts';
import {
  findRun,
  historySchemaExists,
  listRuns,
  runBatches,
  runTransitions,
} from '../../../adapters/postgres/runHistoryQueries.ts';
import { createTestDatabase, type TestDatabase } from './support.ts';

let db: TestDatabase;
let store: RunHistoryStore;

before(async () => {
  db = await createTestDatabase('test_hist_store');
  store = new RunHistoryStore(db.pool);
});

after(async () => {
  await db.drop();
});

function run(uid: string, overrides: Partial<ModelRunRow> = {}): ModelRunRow {
  return {
    uid,
    namespace: 'team-a',
    name: 'transfers',
    model: 'erc20_transfers',
    version: 'v1',
    chain: 'ethereum',
    executor: 'queue',
    queue: 'ethereum_backfill_reads',
    job_name: null,
    min_block: 18_000_000,
    max_block: 18_001_000,
    phase: 'Running',
    batches_total: 2,
    batches_succeeded: 1,
    batches_failed: 0,
    batches_skipped: 0,
    reason: null,
    message: '1/2 batches done, 1 queued',
    schedule: null,
    created_at: '2026-05-01T10:00:00.000Z',
    started_at: '2026-05-01T10:00:05.000Z',
    finished_at: null,
    ...overrides,
  };
}

function batch(
  runUid: string,
  minBlock: number,
  overrides: Partial<ModelRunBatchRow> = {},
): ModelRunBatchRow {
  return {
    run_uid: runUid,
    min_block: minBlock,
    max_block: minBlock + 500,
    state: 'succeeded',
    attempts: 1,
    last_error: null,
    worker: 'worker-0',
    started_at: '2026-05-01T10:00:06.000Z',
    finished_at: '2026-05-01T10:00:09.500Z',
    rows: 1234,
    ...overrides,
  };
}

test('migrations: the first call creates the schema, later ones find it done', async () => {
  assert.equal(await historySchemaExists(db.pool), false);
  const first = await migrateHistorySchema(db.pool);
  assert.deepEqual(first, { applied: HISTORY_MIGRATIONS.map((m) => m.version), version: 1 });
  assert.equal(await historySchemaExists(db.pool), true);
  assert.deepEqual(await migrateHistorySchema(db.pool), { applied: [], version: 1 });
  const { rows } = await db.pool.query('SELECT version, name FROM model_runner.schema_migrations');
  assert.deepEqual(rows, [{ version: 1, name: 'runs, batches and transitions' }]);
});

test('migrations: operators starting at once take turns; exactly one applies each version', async () => {
  const fresh = await createTestDatabase('test_hist_race');
  const pools = Array.from({ length: 6 }, () => new pg.Pool({ connectionString: fresh.url, max: 1 }));
  try {
    const results = await Promise.all(pools.map((pool) => migrateHistorySchema(pool)));
    assert.deepEqual(
      results.map((result) => result.applied.length).sort(),
      [0, 0, 0, 0, 0, 1],
      'one applied the migration, five found it done',
    );
    assert.ok(results.every((result) => result.version === 1));
    const { rows } = await fresh.pool.query('SELECT count(*)::int AS n FROM model_runner.schema_migrations');
    assert.equal(rows[0].n, 1);
  } finally {
    await Promise.all(pools.map((pool) => pool.end()));
    await fresh.drop();
  }
});

test('upserts: written once, the same rows again change nothing, a changed column is rewritten', async () => {
  await migrateHistorySchema(db.pool);
  const rows = {
    runs: [run('uid-1')],
    transitions: [
      { run_uid: 'uid-1', phase: 'Pending' as const, reason: 'Created', at: '2026-05-01T10:00:00.000Z' },
    ],
    batches: [
      batch('uid-1', 18_000_000),
      batch('uid-1', 18_000_500, { state: 'running', rows: null, finished_at: null }),
    ],
  };
  assert.deepEqual(await store.write(rows), { runs: 1, transitions: 1, batches: 2 });
  assert.deepEqual(await store.write(rows), { runs: 0, transitions: 0, batches: 0 });
  const finished = run('uid-1', {
    phase: 'Succeeded',
    batches_succeeded: 2,
    reason: 'AllBatchesComplete',
    finished_at: '2026-05-01T10:01:00.000Z',
  });
  assert.deepEqual(
    await store.write({ runs: [finished], transitions: [], batches: [batch('uid-1', 18_000_500)] }),
    { runs: 1, transitions: 0, batches: 1 },
  );
  assert.deepEqual(await findRun(db.pool, { uid: 'uid-1' }), finished);
  assert.deepEqual(await runBatches(db.pool, 'uid-1'), [
    batch('uid-1', 18_000_000),
    batch('uid-1', 18_000_500),
  ]);
});

test('guards: a finished run is never made unfinished, a succeeded batch is final', async () => {
  await migrateHistorySchema(db.pool);
  const finished = run('uid-2', {
    phase: 'Failed',
    reason: 'BatchesFailed',
    finished_at: '2026-05-01T11:00:00.000Z',
  });
  await store.write({ runs: [finished], transitions: [], batches: [batch('uid-2', 0)] });
  const stale = {
    runs: [run('uid-2')],
    transitions: [],
    batches: [batch('uid-2', 0, { state: 'running', rows: null })],
  };
  assert.deepEqual(await store.write(stale), { runs: 0, transitions: 0, batches: 0 });
  assert.deepEqual(await findRun(db.pool, { uid: 'uid-2' }), finished);
  assert.equal((await runBatches(db.pool, 'uid-2'))[0]?.state, 'succeeded');
});

test('one write of many rows: several statements in one transaction; duplicate keys do not fail it', async () => {
  await migrateHistorySchema(db.pool);
  const many = Array.from({ length: 1_201 }, (_, index) => batch('uid-3', index * 500));
  const counts = await store.write({
    runs: [
      run('uid-3', { batches_total: 1_201 }),
      run('uid-3', { batches_total: 1_201, message: 'last wins' }),
    ],
    transitions: [],
    batches: [...many, batch('uid-3', 0, { attempts: 2 })],
  });
  assert.deepEqual(counts, { runs: 1, transitions: 0, batches: 1_201 });
  const batches = await runBatches(db.pool, 'uid-3');
  assert.equal(batches.length, 1_201);
  assert.equal(batches[0]?.attempts, 2);
  assert.equal((await findRun(db.pool, { uid: 'uid-3' }))?.message, 'last wins');
});

test('a write that fails leaves nothing behind (batch rows refer to their run)', async () => {
  await migrateHistorySchema(db.pool);
  await assert.rejects(
    store.write({ runs: [run('uid-4')], transitions: [], batches: [batch('no-such-run', 0)] }),
    /foreign key/,
  );
  assert.equal(
    await findRun(db.pool, { uid: 'uid-4' }),
    undefined,
    'the run row of that write was rolled back',
  );
});

test('queries: list filters and order, show by uid or by the newest run of a name, transitions in order', async () => {
  await migrateHistorySchema(db.pool);
  await store.write({
    runs: [
      run('q-old', {
        namespace: 'q',
        name: 'daily',
        created_at: '2026-04-01T00:00:00.000Z',
        phase: 'Succeeded',
      }),
      run('q-new', {
        namespace: 'q',
        name: 'daily',
        created_at: '2026-04-03T00:00:00.000Z',
        phase: 'Failed',
      }),
      run('q-other', {
        namespace: 'q',
        name: 'base',
        chain: 'base',
        model: 'ingest',
        created_at: '2026-04-02T00:00:00.000Z',
      }),
    ],
    transitions: [
      { run_uid: 'q-new', phase: 'Failed', reason: 'BatchesFailed', at: '2026-04-03T00:10:00.000Z' },
      { run_uid: 'q-new', phase: 'Running', reason: 'BatchesDispatched', at: '2026-04-03T00:00:00.000Z' },
      { run_uid: 'q-new', phase: 'Pending', reason: 'Created', at: '2026-04-03T00:00:00.000Z' },
    ],
    batches: [],
  });
  // Other tests of this file wrote runs too: look at this test's only.
  const uids = (rows: ModelRunRow[]) => rows.map((row) => row.uid).filter((uid) => uid.startsWith('q-'));
  const since = new Date('2026-04-01T12:00:00Z');
  assert.deepEqual(uids(await listRuns(db.pool, { since, limit: 10 })), ['q-new', 'q-other']);
  assert.deepEqual(uids(await listRuns(db.pool, { chain: 'base', limit: 10 })), ['q-other']);
  assert.deepEqual(uids(await listRuns(db.pool, { model: 'ingest', phase: 'Running', limit: 10 })), [
    'q-other',
  ]);
  assert.deepEqual(uids(await listRuns(db.pool, { phase: 'Failed', since, limit: 10 })), ['q-new']);
  assert.equal((await listRuns(db.pool, { limit: 1 })).length, 1);
  assert.equal((await findRun(db.pool, { namespace: 'q', name: 'daily' }))?.uid, 'q-new');
  assert.equal(await findRun(db.pool, { namespace: 'q', name: 'none' }), undefined);
  assert.deepEqual(
    (await runTransitions(db.pool, 'q-new')).map((row) => [row.phase, row.at]),
    [
      ['Pending', '2026-04-03T00:00:00.000Z'],
      ['Running', '2026-04-03T00:00:00.000Z'],
      ['Failed', '2026-04-03T00:10:00.000Z'],
    ],
  );
});
