import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ReportedBatchFact } from '../../../contract/batchFacts.ts';
import type { ModelRunRow } from '../../../contract/runHistory.ts';
import type { Condition, ModelRun, ModelRunStatus } from '../../../crds/generated/types.ts';
import {
  batchRowOf,
  historyRowsOf,
  phaseReason,
  runRowOf,
  transitionRowsOf,
} from '../../../controllers/planning/runHistoryRows.ts';

const CREATED = '2026-05-01T10:00:00Z';

function condition(type: string, status: 'True' | 'False', reason: string): Condition {
  return { type, status, reason, message: '', lastTransitionTime: CREATED, observedGeneration: 1 };
}

function modelRun(status: ModelRunStatus | undefined, spec: Partial<ModelRun['spec']> = {}): ModelRun {
  return {
    apiVersion: 'modelrunner.io/v1alpha1',
    kind: 'ModelRun',
    metadata: { name: 'transfers', namespace: 'team-a', uid: 'uid-1', creationTimestamp: CREATED as never },
    spec: { model: 'erc20_transfers', chain: 'ethereum', blocks: { start: 100, end: 299 }, ...spec },
    ...(status ? { status } : {}),
  };
}

const succeeded: ModelRunStatus = {
  phase: 'Succeeded',
  blocks: { start: 100, end: 299 },
  version: 'v1',
  queue: 'ethereum_backfill_reads',
  batches: { total: 2, skipped: 1, waiting: 0, queued: 0, succeeded: 1, failed: 0 },
  startedAt: '2026-05-01T10:00:05Z',
  finishedAt: '2026-05-01T10:02:00Z',
  message: '2/2 batches done',
  conditions: [condition('Planned', 'True', 'Planned'), condition('Complete', 'True', 'AllBatchesComplete')],
};

test('runRowOf: a finished run, every column', () => {
  assert.deepEqual(runRowOf(modelRun(succeeded)), {
    uid: 'uid-1',
    namespace: 'team-a',
    name: 'transfers',
    model: 'erc20_transfers',
    version: 'v1',
    chain: 'ethereum',
    executor: 'queue',
    queue: 'ethereum_backfill_reads',
    job_name: null,
    min_block: 100,
    max_block: 300,
    phase: 'Succeeded',
    batches_total: 2,
    batches_succeeded: 1,
    batches_failed: 0,
    batches_skipped: 1,
    reason: 'AllBatchesComplete',
    message: '2/2 batches done',
    schedule: null,
    created_at: '2026-05-01T10:00:00.000Z',
    started_at: '2026-05-01T10:00:05.000Z',
    finished_at: '2026-05-01T10:02:00.000Z',
  } satisfies ModelRunRow);
});

test('runRowOf: a new run (no status yet), a run by dates, a Job run of a schedule, a typed-read Date', () => {
  const fresh = runRowOf(modelRun(undefined, { version: 'v2', executor: 'job' }))!;
  assert.deepEqual(
    [
      fresh.phase,
      fresh.version,
      fresh.executor,
      fresh.min_block,
      fresh.max_block,
      fresh.batches_total,
      fresh.reason,
    ],
    ['Pending', 'v2', 'job', 100, 300, 0, null],
  );
  const byDates = modelRun(undefined);
  delete byDates.spec.blocks;
  byDates.spec.dates = { start: '2026-04-01', end: '2026-04-02' };
  assert.deepEqual([runRowOf(byDates)!.min_block, runRowOf(byDates)!.max_block], [null, null]);
  const scheduled = modelRun({ phase: 'Running', jobName: 'transfers' }, { executor: 'job' });
  scheduled.metadata!.ownerReferences = [
    { apiVersion: 'v1', kind: 'ConfigMap', name: 'not-it', uid: 'u0' },
    {
      apiVersion: 'modelrunner.io/v1alpha1',
      kind: 'ModelSchedule',
      name: 'nightly',
      uid: 'u1',
      controller: true,
    },
  ];
  assert.deepEqual([runRowOf(scheduled)!.schedule, runRowOf(scheduled)!.job_name], ['nightly', 'transfers']);
  const typed = modelRun(undefined);
  typed.metadata!.creationTimestamp = new Date('2026-05-01T10:00:00Z');
  assert.equal(runRowOf(typed)!.created_at, '2026-05-01T10:00:00.000Z');
  const unsaved = modelRun(undefined);
  delete unsaved.metadata!.uid;
  assert.equal(runRowOf(unsaved), undefined);
  assert.equal(historyRowsOf(unsaved, []), undefined);
});

test('phaseReason: the condition that explains the phase', () => {
  const cases: [ModelRunStatus | undefined, string | null][] = [
    [undefined, null],
    [succeeded, 'AllBatchesComplete'],
    [{ phase: 'Failed', conditions: [condition('Failed', 'True', 'BatchesFailed')] }, 'BatchesFailed'],
    [{ phase: 'Failed', conditions: [condition('Failed', 'True', 'UnknownModel')] }, 'UnknownModel'],
    [{ phase: 'Expired', conditions: [condition('Failed', 'True', 'DeadlineExceeded')] }, 'DeadlineExceeded'],
    [{ phase: 'Pending', conditions: [condition('Planned', 'False', 'WaitingForDates')] }, 'WaitingForDates'],
    [
      {
        phase: 'Running',
        conditions: [
          condition('Planned', 'True', 'Planned'),
          condition('WaitingForInputs', 'True', 'InputsIncomplete'),
          condition('Suspended', 'True', 'Suspended'),
        ],
      },
      'Suspended',
    ],
    [
      {
        phase: 'Running',
        conditions: [condition('Planned', 'True', 'Planned'), condition('Suspended', 'False', 'Resumed')],
      },
      null,
    ],
  ];
  for (const [status, reason] of cases) assert.equal(phaseReason(status), reason, JSON.stringify(status));
});

test('transitionRowsOf: created, started and finished, from the status times', () => {
  const row = runRowOf(modelRun(succeeded))!;
  assert.deepEqual(transitionRowsOf(row), [
    { run_uid: 'uid-1', phase: 'Pending', reason: 'Created', at: '2026-05-01T10:00:00.000Z' },
    { run_uid: 'uid-1', phase: 'Running', reason: 'BatchesDispatched', at: '2026-05-01T10:00:05.000Z' },
    { run_uid: 'uid-1', phase: 'Succeeded', reason: 'AllBatchesComplete', at: '2026-05-01T10:02:00.000Z' },
  ]);
  const refused = runRowOf(
    modelRun({
      phase: 'Failed',
      finishedAt: '2026-05-01T10:00:01Z',
      conditions: [condition('Failed', 'True', 'UnknownModel')],
    }),
  )!;
  assert.deepEqual(
    transitionRowsOf(refused).map((t) => [t.phase, t.reason]),
    [
      ['Pending', 'Created'],
      ['Failed', 'UnknownModel'],
    ],
    'refused at planning: never Running',
  );
  const going = runRowOf(modelRun({ phase: 'Running', startedAt: '2026-05-01T10:00:05Z' }))!;
  assert.deepEqual(
    transitionRowsOf(going).map((t) => t.phase),
    ['Pending', 'Running'],
  );
  const noReason = runRowOf(modelRun({ phase: 'Expired', finishedAt: '2026-05-01T11:00:00Z' }))!;
  assert.equal(transitionRowsOf(noReason)[1]?.reason, 'Expired', 'the phase stands in for a missing reason');
});

const fact = (overrides: Partial<ReportedBatchFact>): ReportedBatchFact => ({
  batchId: 'ethereum/erc20_transfers/100',
  minBlock: 100,
  maxBlock: 200,
  state: 'running',
  attempts: 1,
  worker: 'pod-0',
  startedAt: Date.parse('2026-05-01T10:00:06Z'),
  ...overrides,
});

test('batchRowOf: facts as columns; a batch left unfinished by a finished run is cancelled', () => {
  const running = runRowOf(modelRun({ phase: 'Running' }))!;
  const failedRun = runRowOf(modelRun({ phase: 'Failed', finishedAt: '2026-05-01T10:05:00Z' }))!;
  assert.deepEqual(batchRowOf(running, fact({})), {
    run_uid: 'uid-1',
    min_block: 100,
    max_block: 200,
    state: 'running',
    attempts: 1,
    last_error: null,
    worker: 'pod-0',
    started_at: '2026-05-01T10:00:06.000Z',
    finished_at: null,
    rows: null,
  });
  const cases: [ModelRunRow, ReportedBatchFact, string][] = [
    [failedRun, fact({}), 'cancelled'],
    [failedRun, fact({ state: 'retrying' }), 'cancelled'],
    [failedRun, fact({ state: 'interrupted' }), 'cancelled'],
    [failedRun, fact({ state: 'failed' }), 'failed'],
    [failedRun, fact({ state: 'succeeded' }), 'succeeded'],
    [running, fact({ state: 'retrying' }), 'retrying'],
  ];
  for (const [row, batchFact, state] of cases) assert.equal(batchRowOf(row, batchFact).state, state);
  const done = batchRowOf(
    running,
    fact({
      state: 'succeeded',
      finishedAt: Date.parse('2026-05-01T10:00:09Z'),
      rows: 42,
      lastError: 'rpc: x',
    }),
  );
  assert.deepEqual(
    [done.finished_at, done.rows, done.last_error],
    ['2026-05-01T10:00:09.000Z', 42, 'rpc: x'],
  );
});

test('historyRowsOf: the run, its transitions and one row per reported batch', () => {
  const rows = historyRowsOf(modelRun(succeeded), [
    fact({ state: 'succeeded' }),
    fact({ minBlock: 200, maxBlock: 300 }),
  ]);
  assert.deepEqual(
    [rows?.runs.length, rows?.transitions.length, rows?.batches.map((b) => [b.min_block, b.state])],
    [
      1,
      3,
      [
        [100, 'succeeded'],
        [200, 'cancelled'],
      ],
    ],
  );
});
