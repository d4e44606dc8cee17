import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ModelRunRow } from '../../../contract/runHistory.ts';
import { formatDuration, formatRunDetails, formatRunList, formatTable } from '../../../cli/runsOutput.ts';

test('formatDuration', () => {
  const cases: [number, string][] = [
    [0, '0.0s'],
    [3_456, '3.5s'],
    [59_949, '59.9s'],
    [60_000, '1m00s'],
    [245_000, '4m05s'],
    [3_600_000, '1h00m'],
    [7_380_000, '2h03m'],
    [-1, '-'],
    [Number.NaN, '-'],
  ];
  for (const [ms, text] of cases) assert.equal(formatDuration(ms), text, String(ms));
});

test('formatTable pads every column but the last', () => {
  assert.equal(
    formatTable(
      ['A', 'LONGER', 'C'],
      [
        ['xx', 'y', 'last cell'],
        ['x', 'yyyyyyy', ''],
      ],
    ),
    ['A   LONGER   C', 'xx  y        last cell', 'x   yyyyyyy'].join('\n'),
  );
});

const run: ModelRunRow = {
  uid: 'uid-1',
  namespace: 'team-a',
  name: 'transfers',
  model: 'erc20_transfers',
  version: 'v1',
  chain: 'ethereum',
  executor: 'job',
  queue: null,
  job_name: 'transfers',
  min_block: 100,
  max_block: 300,
  phase: 'Failed',
  batches_total: 2,
  batches_succeeded: 1,
  batches_failed: 1,
  batches_skipped: 0,
  reason: 'BatchesFailed',
  message: '1 of 2 batches failed for good',
  schedule: null,
  created_at: '2026-05-01T10:00:00.000Z',
  started_at: '2026-05-01T10:00:02.000Z',
  finished_at: '2026-05-01T10:04:07.000Z',
};

test('formatRunList: one line per run, blocks inclusive, done/total and how long it took', () => {
  assert.equal(
    formatRunList([run]),
    [
      'CREATED               RUN               MODEL               CHAIN     BLOCKS   PHASE   DONE  FAILED  TOOK   REASON',
      '2026-05-01 10:00:00Z  team-a/transfers  erc20_transfers v1  ethereum  100-299  Failed  1/2   1       4m05s  BatchesFailed',
    ].join('\n'),
  );
  assert.equal(formatRunList([]), 'no runs match');
});

test('formatRunDetails: the run, its phases and its batches with their last errors', () => {
  const text = formatRunDetails(
    run,
    [
      { run_uid: 'uid-1', phase: 'Pending', reason: 'Created', at: run.created_at },
      { run_uid: 'uid-1', phase: 'Failed', reason: 'BatchesFailed', at: run.finished_at! },
    ],
    [
      {
        run_uid: 'uid-1',
        min_block: 100,
        max_block: 200,
        state: 'failed',
        attempts: 1,
        last_error: 'rpc: connect\nECONNREFUSED',
        worker: 'transfers-0-abcde',
        started_at: '2026-05-01T10:00:03.000Z',
        finished_at: '2026-05-01T10:00:04.500Z',
        rows: null,
      },
    ],
  );
  for (const expected of [
    'run       team-a/transfers  (uid uid-1)',
    'model     erc20_transfers v1 on ethereum, blocks 100-299',
    'executor  job transfers',
    'phase     Failed (BatchesFailed)',
    'finished  2026-05-01 10:04:07Z  (took 4m05s)',
    'batches   2 planned: 1 succeeded, 0 skipped, 1 failed',
    '2026-05-01 10:04:07Z  Failed   BatchesFailed',
    '100-199  failed  1         transfers-0-abcde  2026-05-01 10:00:03Z  1.5s  -     rpc: connect ECONNREFUSED',
  ]) {
    assert.ok(text.split('\n').includes(expected), `missing line ${JSON.stringify(expected)} in\n${text}`);
  }
  assert.match(
    formatRunDetails({ ...run, phase: 'Pending' }, [], []),
    /batches {3}none reported by a worker/,
  );
});
