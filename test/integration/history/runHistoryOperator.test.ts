// The run history end to end: an operator process (this branch's code) with DATABASE_URL
// pointing at a database of this test through a loopback proxy, job-executor ModelRuns over a
// few anvil blocks worked by pods of a local pod runner started from this checkout. The rows
// must say exactly what the runs' final status and their workers said, and stay once TTL has
// deleted the resources; with Postgres unreachable mid-run the operator works on, and once it
// is back the rows catch up with nothing lost. Then `model-runner runs` reads that history.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { ModelRunBatchRow, ModelRunRow } from '../../../contract/runHistory.ts';
import type { ModelRun } from '../../../crds/generated/types.ts';
import { AnvilSession } from '../../../devtools/anvil/erc20Scenario.ts';
import { INGEST_MANIFEST } from '../../../models/manifests.ts';
import { repoRoot, stackEnv } from '../../../devtools/stackEnv.ts';
import { TcpProxy } from '../worker/tcpProxy.ts';
import { BATCH_SIZE, HistoryTestWorld, type OperatorProcess } from './operatorHarness.ts';
import { createTestDatabase, databaseUrl } from './support.ts';

let world: HistoryTestWorld;
let operator: OperatorProcess;
let firstBlock: number;
/** The uid of each run by name, once created. */
const uids = new Map<string, string>();

function iso(value: unknown): string | null {
  return value === undefined || value === null ? null : new Date(value as string).toISOString();
}

/** The run's row, column by column from its final status (as the issue defines the table). */
function expectedRunRow(run: ModelRun, reason: string | null): ModelRunRow {
  const status = run.status!;
  return {
    uid: run.metadata!.uid!,
    namespace: world.namespace,
    name: run.metadata!.name!,
    model: 'ingest',
    version: `v${INGEST_MANIFEST.version}`,
    chain: 'local',
    executor: 'job',
    queue: null,
    job_name: status.jobName!,
    min_block: status.blocks!.start,
    max_block: status.blocks!.end + 1,
    phase: status.phase!,
    batches_total: status.batches!.total!,
    batches_succeeded: status.batches!.succeeded!,
    batches_failed: status.batches!.failed!,
    batches_skipped: status.batches!.skipped!,
    reason,
    message: status.message!,
    schedule: null,
    created_at: iso(run.metadata!.creationTimestamp)!,
    started_at: iso(status.startedAt),
    finished_at: iso(status.finishedAt),
  };
}

function expectedTransitions(run: ModelRun, final: string, reason: string) {
  return [
    {
      run_uid: run.metadata!.uid!,
      phase: 'Pending',
      reason: 'Created',
      at: iso(run.metadata!.creationTimestamp),
    },
    {
      run_uid: run.metadata!.uid!,
      phase: 'Running',
      reason: 'BatchesDispatched',
      at: iso(run.status!.startedAt),
    },
    { run_uid: run.metadata!.uid!, phase: final, reason, at: iso(run.status!.finishedAt) },
  ];
}

/** Batch rows of a run whose every batch succeeded at the first attempt, and their rows total. */
async function assertSucceededBatches(
  run: ModelRun,
  batches: ModelRunBatchRow[],
  count: number,
): Promise<void> {
  const start = run.status!.blocks!.start;
  assert.deepEqual(
    batches.map((batch) => [batch.min_block, batch.max_block, batch.state, batch.attempts, batch.last_error]),
    Array.from({ length: count }, (_, index) => [
      start + index * BATCH_SIZE,
      start + (index + 1) * BATCH_SIZE,
      'succeeded',
      1,
      null,
    ]),
  );
  const created = Date.parse(iso(run.metadata!.creationTimestamp)!);
  const finished = Date.parse(iso(run.status!.finishedAt)!);
  for (const batch of batches) {
    assert.match(
      batch.worker ?? '',
      new RegExp(`^${run.status!.jobName}-\\d+-[a-z0-9]+$`),
      'the pod that worked it',
    );
    const [startedAt, finishedAt] = [Date.parse(batch.started_at!), Date.parse(batch.finished_at!)];
    assert.ok(created <= startedAt && startedAt <= finishedAt, JSON.stringify(batch));
    // status.finishedAt is written at second precision after the last batch reported.
    assert.ok(
      finishedAt <= finished + 1_000,
      `${batch.finished_at} after the run finished ${run.status!.finishedAt}`,
    );
    assert.ok((batch.rows ?? 0) > 0, 'an ingest batch writes rows');
  }
  const progress = await world.progress.readProgress(run.metadata!.uid!);
  assert.equal(
    batches.reduce((sum, batch) => sum + (batch.rows ?? 0), 0),
    progress.rows,
    'the rows of the batches add up to what the workers counted',
  );
}

function ingestRun(
  firstBatch: number,
  batches: number,
  extra: Partial<ModelRun['spec']> = {},
): ModelRun['spec'] {
  const start = firstBlock + firstBatch * BATCH_SIZE;
  return {
    model: 'ingest',
    chain: 'local',
    blocks: { start, end: start + batches * BATCH_SIZE - 1 },
    executor: 'job',
    maxRetriesPerBatch: 0,
    ...extra,
  };
}

async function createRun(name: string, spec: ModelRun['spec']): Promise<void> {
  const run = await world.createRun(name, spec);
  uids.set(name, run.metadata!.uid!);
}

before(async () => {
  world = await HistoryTestWorld.create({ podRunner: true });
  const anvil = await new AnvilSession(stackEnv().ETH_RPC_URL).init();
  if ((await anvil.blockNumber()) < 2_000) await anvil.mine(2_000);
  const tip = await anvil.blockNumber();
  firstBlock = tip - 1_500 - ((tip - 1_500) % BATCH_SIZE);
  operator = world.startOperator();
  await operator.waitForLog('run history schema ready');
  // A port nothing listens on: the failing run's pods find no JSON-RPC endpoint there.
  const deadRpc = await TcpProxy.create({ host: '127.0.0.1', port: 1 }, false);
  await createRun('hist-ok', ingestRun(0, 3, { job: { parallelism: 2 } }));
  await createRun(
    'hist-fail',
    ingestRun(3, 1, { job: { env: [{ name: 'ETH_RPC_URL', value: `http://127.0.0.1:${deadRpc.port}` }] } }),
  );
});

after(async () => {
  await world?.cleanup();
});

test('a run that succeeds: its row, its phases and one row per batch, exactly', async () => {
  const run = await world.waitForPhase('hist-ok', ['Succeeded', 'Failed']);
  assert.equal(run.status?.phase, 'Succeeded', world.describe(run));
  const history = await world.waitForHistory(
    'the succeeded run in the history',
    uids.get('hist-ok')!,
    (h) => {
      return (
        h.run?.phase === 'Succeeded' && h.batches.filter((batch) => batch.state === 'succeeded').length === 3
      );
    },
  );
  assert.deepEqual(history.run, expectedRunRow(run, 'AllBatchesComplete'));
  assert.deepEqual(
    [
      history.run?.min_block,
      history.run?.max_block,
      history.run?.batches_total,
      history.run?.batches_succeeded,
    ],
    [firstBlock, firstBlock + 300, 3, 3],
  );
  assert.deepEqual(history.transitions, expectedTransitions(run, 'Succeeded', 'AllBatchesComplete'));
  await assertSucceededBatches(run, history.batches, 3);
});

test('a run whose batch fails in its worker: Failed with the reason, the batch with its error', async () => {
  const run = await world.waitForPhase('hist-fail', ['Succeeded', 'Failed']);
  assert.equal(run.status?.phase, 'Failed', world.describe(run));
  const history = await world.waitForHistory('the failed run in the history', uids.get('hist-fail')!, (h) => {
    return h.run?.phase === 'Failed' && h.batches[0]?.state === 'failed';
  });
  assert.deepEqual(history.run, expectedRunRow(run, 'BatchesFailed'));
  assert.deepEqual([history.run?.batches_total, history.run?.batches_failed], [1, 1]);
  assert.deepEqual(history.transitions, expectedTransitions(run, 'Failed', 'BatchesFailed'));
  assert.equal(history.batches.length, 1);
  const [batch] = history.batches;
  assert.deepEqual(
    [batch?.min_block, batch?.max_block, batch?.state, batch?.attempts, batch?.rows],
    [firstBlock + 300, firstBlock + 400, 'failed', 1, null],
  );
  assert.match(batch?.last_error ?? '', /^rpc: .*ECONNREFUSED/);
  assert.equal(batch?.last_error, run.status?.failedBatches?.[0]?.error, 'the same error the status shows');
  assert.match(batch?.worker ?? '', new RegExp(`^${run.status!.jobName}-0-`));
});

test('a run deleted by its TTL keeps its rows', async () => {
  // The TTL leaves a few seconds to read the final status before the run is gone.
  await createRun('hist-ttl', ingestRun(4, 1, { ttlSecondsAfterFinished: 5 }));
  const run = await world.waitForPhase('hist-ttl', ['Succeeded', 'Failed']);
  assert.equal(run.status?.phase, 'Succeeded', world.describe(run));
  await world.waitUntilGone('hist-ttl');
  // The deletion reached the mirror and was written: the rows are still the finished run's.
  // (The write may come before the test sees the run gone: compare the operator's own times.)
  const uid = uids.get('hist-ttl')!;
  await world.waitForHistory('a write after the deletion', uid, () => {
    const deletedAt = operator.lines.find(
      (line) => line.msg === 'run deleted: its queued batches are cancelled' && line.runUid === uid,
    )?.time;
    return (
      typeof deletedAt === 'number' &&
      operator.lines.some(
        (line) =>
          line.msg === 'run history written' && typeof line.time === 'number' && line.time >= deletedAt,
      )
    );
  });
  const history = await world.history(uids.get('hist-ttl')!);
  assert.deepEqual(history.run, expectedRunRow(run, 'AllBatchesComplete'));
  assert.deepEqual(history.transitions, expectedTransitions(run, 'Succeeded', 'AllBatchesComplete'));
  await assertSucceededBatches(run, history.batches, 1);
});

test('Postgres unreachable mid-run: the run goes on and is deleted, then the history catches up exactly', async () => {
  await createRun('hist-outage', ingestRun(5, 2, { ttlSecondsAfterFinished: 5 }));
  const uid = uids.get('hist-outage')!;
  await world.waitForHistory('the run, running, in the history', uid, (h) => h.run?.phase === 'Running');

  await world.proxy.close();
  const final = await world.waitForPhase('hist-outage', ['Succeeded', 'Failed']);
  assert.equal(final.status?.phase, 'Succeeded', world.describe(final));
  await world.waitUntilGone('hist-outage');
  await operator.waitForLog(
    'run history: cannot write to the database; reconciling goes on and the history catches up when it is back',
  );
  assert.equal((await world.history(uid)).run?.phase, 'Running', 'nothing was written during the outage');

  await world.proxy.open();
  const history = await world.waitForHistory('the history to catch up', uid, (h) => {
    return (
      h.run?.phase === 'Succeeded' && h.batches.filter((batch) => batch.state === 'succeeded').length === 2
    );
  });
  assert.deepEqual(history.run, expectedRunRow(final, 'AllBatchesComplete'));
  assert.deepEqual(history.transitions, expectedTransitions(final, 'Succeeded', 'AllBatchesComplete'));
  await assertSucceededBatches(final, history.batches, 2);
  await operator.waitForLog('run history: database back; writing the whole cluster again');
  assert.ok(operator.running, 'the operator never stopped');
});

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function modelRunner(args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(repoRoot, 'bin', 'model-runner'), args, {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('model-runner runs list and runs show read that history', async () => {
  const env = { DATABASE_URL: world.database.url };
  const listed = await modelRunner(['runs', 'list', '--json'], env);
  assert.equal(listed.code, 0, listed.stderr);
  const rows = JSON.parse(listed.stdout) as ModelRunRow[];
  assert.deepEqual(rows.map((row) => [row.name, row.phase]).sort(), [
    ['hist-fail', 'Failed'],
    ['hist-ok', 'Succeeded'],
    ['hist-outage', 'Succeeded'],
    ['hist-ttl', 'Succeeded'],
  ]);
  assert.deepEqual(
    rows[0],
    (await world.history(rows[0]!.uid)).run,
    '--json prints the rows with their columns',
  );

  const failed = await modelRunner(
    [
      'runs',
      'list',
      '--phase',
      'Failed',
      '--model',
      'ingest',
      '--chain',
      'local',
      '--since',
      '24h',
      '--json',
    ],
    env,
  );
  assert.deepEqual(
    (JSON.parse(failed.stdout) as ModelRunRow[]).map((row) => row.uid),
    [uids.get('hist-fail')],
  );
  const future = await modelRunner(['runs', 'list', '--since', '2999-01-01', '--json'], env);
  assert.deepEqual(JSON.parse(future.stdout), []);

  const table = await modelRunner(['runs', 'list', '--limit', '2'], env);
  assert.equal(table.code, 0, table.stderr);
  const lines = table.stdout.trim().split('\n');
  assert.match(lines[0]!, /^CREATED +RUN +MODEL +CHAIN +BLOCKS +PHASE +DONE +FAILED +TOOK +REASON$/);
  assert.equal(lines.length, 4, 'a header, two runs and the note that there are more');
  assert.match(lines[3]!, /--limit shows more/);

  const shown = await modelRunner(['runs', 'show', uids.get('hist-fail')!, '--json'], env);
  assert.equal(shown.code, 0, shown.stderr);
  assert.deepEqual(JSON.parse(shown.stdout), await world.history(uids.get('hist-fail')!));
  const text = await modelRunner(['runs', 'show', uids.get('hist-fail')!], env);
  assert.match(text.stdout, new RegExp(`^run +${world.namespace}/hist-fail`, 'm'));
  assert.match(text.stdout, /^phase +Failed \(BatchesFailed\)$/m);
  assert.match(text.stdout, /failed +1 .*ECONNREFUSED/);

  // The TTL deleted hist-ttl: a new run may take its name; show by name picks the newest.
  await createRun('hist-ttl', ingestRun(4, 1, { dryRun: true }));
  const newest = uids.get('hist-ttl')!;
  await world.waitForHistory('the new hist-ttl in the history', newest, (h) => h.run?.phase === 'Succeeded');
  const byName = await modelRunner(['runs', 'show', `${world.namespace}/hist-ttl`, '--json'], env);
  assert.equal((JSON.parse(byName.stdout) as { run: ModelRunRow }).run.uid, newest);
  const missing = await modelRunner(['runs', 'show', `${world.namespace}/never-was`], env);
  assert.deepEqual(
    [missing.code, missing.stderr.trim()],
    [1, `model-runner: the run history has no run ${world.namespace}/never-was`],
  );
});

test('model-runner runs: a bad --since, no DATABASE_URL, an unreachable or empty database', async () => {
  const badSince = await modelRunner(['runs', 'list', '--since', 'yesterday'], {
    DATABASE_URL: world.database.url,
  });
  assert.equal(badSince.code, 2);
  assert.match(badSince.stderr, /--since must be a time back from now \(30m, 24h, 7d\) or a UTC day/);

  const unset = await modelRunner(['runs', 'list'], {});
  assert.equal(unset.code, 2);
  assert.match(unset.stderr, /DATABASE_URL is not set/);

  const closed = await TcpProxy.create({ host: '127.0.0.1', port: 1 }, false);
  const server = new URL(stackEnv().DATABASE_URL);
  server.host = `127.0.0.1:${closed.port}`;
  const unreachable = await modelRunner(['runs', 'show', 'ns/x'], {
    DATABASE_URL: databaseUrl('history', server.toString()),
  });
  assert.equal(unreachable.code, 1);
  // The stack's URL carries a password: the message shows *** in its place.
  const credentials = server.password
    ? `${server.username}:\\*\\*\\*@`
    : server.username
      ? `${server.username}@`
      : '';
  assert.match(
    unreachable.stderr,
    new RegExp(
      `cannot reach the run history database at postgres://${credentials}127\\.0\\.0\\.1:${closed.port}/history \\(DATABASE_URL\\): .*ECONNREFUSED`,
    ),
  );

  const empty = await createTestDatabase('test_hist_empty');
  try {
    const none = await modelRunner(['runs', 'list'], { DATABASE_URL: empty.url });
    assert.equal(none.code, 1);
    assert.match(none.stderr, /holds no run history: the operator creates the schema model_runner/);
  } finally {
    await empty.drop();
  }
});
