import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dayRangesOfBlocks, splitRowsByDt } from '../../../dataplane/dtParts.ts';
import {
  INGESTION_ROOT_PATHS,
  blockFileStem,
  chainPrefix,
  dataPath,
  dtOfTimestamp,
  markerPath,
  modelOutputRootPath,
  parseDataPath,
} from '../../../dataplane/paths.ts';
import { InvalidValueError } from '../../../dataplane/validNames.ts';

describe('dataPath', () => {
  const cases: [string, string, string, number, string][] = [
    [
      'ingestion/logs_v1',
      'op',
      '2024-10-01',
      123_400_000,
      'ingestion/logs_v1/chain=op/dt=2024-10-01/000123400000.parquet',
    ],
    [
      'ingestion/blocks_v1',
      'local',
      '2026-01-31',
      0,
      'ingestion/blocks_v1/chain=local/dt=2026-01-31/000000000000.parquet',
    ],
    [
      'blockbatch/token_transfers/erc20_transfers_v1',
      'base',
      '2024-02-29',
      22_000_400,
      'blockbatch/token_transfers/erc20_transfers_v1/chain=base/dt=2024-02-29/000022000400.parquet',
    ],
    [
      'ingestion/logs_v1',
      'op',
      '2024-10-01',
      1_234_567_890_123,
      'ingestion/logs_v1/chain=op/dt=2024-10-01/1234567890123.parquet',
    ],
  ];
  for (const [root, chain, dt, minBlock, expected] of cases) {
    it(expected, () => {
      assert.equal(dataPath(root, chain, dt, minBlock), expected);
      assert.deepEqual(parseDataPath(expected), { rootPath: root, chain, dt, batchStart: minBlock });
    });
  }

  const hostile: [string, string, string, number][] = [
    ['../etc', 'op', '2024-10-01', 0],
    ['/abs/root', 'op', '2024-10-01', 0],
    ['ingestion//logs', 'op', '2024-10-01', 0],
    ['ingestion/logs_v1/', 'op', '2024-10-01', 0],
    ["ingestion/logs'v1", 'op', '2024-10-01', 0],
    ['Ingestion/Logs', 'op', '2024-10-01', 0],
    ['ingestion/logs_v1', 'op/../x', '2024-10-01', 0],
    ['ingestion/logs_v1', 'OP', '2024-10-01', 0],
    ['ingestion/logs_v1', '1op', '2024-10-01', 0],
    ['ingestion/logs_v1', 'op', '2024-13-01', 0],
    ['ingestion/logs_v1', 'op', '2023-02-29', 0],
    ['ingestion/logs_v1', 'op', '2024-1-01', 0],
    ['ingestion/logs_v1', 'op', '2024-10-01', -1],
    ['ingestion/logs_v1', 'op', '2024-10-01', 1.5],
  ];
  for (const [root, chain, dt, minBlock] of hostile) {
    it(`refuses ${JSON.stringify([root, chain, dt, minBlock])}`, () => {
      assert.throws(() => dataPath(root, chain, dt, minBlock), InvalidValueError);
    });
  }
});

describe('parseDataPath', () => {
  const bad = [
    'ingestion/logs_v1/chain=op/dt=2024-10-01/123.parquet',
    'ingestion/logs_v1/chain=op/dt=2024-10-01/000000000123.json',
    'ingestion/logs_v1/chain=op/000000000123.parquet',
    '../x/chain=op/dt=2024-10-01/000000000123.parquet',
    'ingestion/logs_v1/chain=OP/dt=2024-10-01/000000000123.parquet',
  ];
  for (const path of bad) {
    it(`refuses ${path}`, () => assert.throws(() => parseDataPath(path), InvalidValueError));
  }
});

describe('other path helpers', () => {
  it('names a model output root path', () => {
    assert.equal(
      modelOutputRootPath('token_transfers', 'erc20_transfers', 1),
      'blockbatch/token_transfers/erc20_transfers_v1',
    );
    assert.throws(() => modelOutputRootPath('Token', 'x', 1), InvalidValueError);
    assert.throws(() => modelOutputRootPath('t', 'x', 0), InvalidValueError);
  });

  it('lists the ingestion root paths', () => {
    assert.deepEqual(Object.values(INGESTION_ROOT_PATHS), [
      'ingestion/blocks_v1',
      'ingestion/transactions_v2',
      'ingestion/logs_v1',
    ]);
  });

  it('names a batch marker set without a day, and a chain folder', () => {
    assert.equal(markerPath('ingestion/logs_v1', 'op', 400), 'ingestion/logs_v1/chain=op/000000000400');
    assert.equal(chainPrefix('ingestion/logs_v1', 'op'), 'ingestion/logs_v1/chain=op');
  });

  it('pads block numbers to 12 digits', () => {
    assert.equal(blockFileStem(7), '000000000007');
    assert.equal(blockFileStem(999_999_999_999), '999999999999');
  });

  const days: [number, string][] = [
    [0, '1970-01-01'],
    [1_727_740_799, '2024-09-30'],
    [1_727_740_800, '2024-10-01'],
    [1_709_164_800, '2024-02-29'],
  ];
  for (const [timestamp, dt] of days) {
    it(`timestamp ${timestamp} is on ${dt} (UTC)`, () => assert.equal(dtOfTimestamp(timestamp), dt));
  }
});

describe('splitRowsByDt', () => {
  const midnight = 1_727_740_800; // 2024-10-01T00:00:00Z
  const rows = [
    { n: 1, ts: midnight - 2 },
    { n: 2, ts: midnight + 1 },
    { n: 3, ts: midnight - 1 },
    { n: 4, ts: midnight },
  ];

  const days = [
    { dt: '2024-09-30', minBlock: 100, maxBlock: 150 },
    { dt: '2024-10-01', minBlock: 150, maxBlock: 200 },
  ];

  it('splits a batch that straddles midnight into its two days, keeping row order', () => {
    const parts = splitRowsByDt(rows, (row) => row.ts, days);
    assert.deepEqual(
      parts.map((part) => [part.day, part.rows.map((row) => row.n)]),
      [
        [days[0], [1, 3]],
        [days[1], [2, 4]],
      ],
    );
  });

  it('gives every day of the batch a part, even an empty one', () => {
    const parts = splitRowsByDt([rows[1]!], (row) => row.ts, days);
    assert.deepEqual(
      parts.map((part) => [part.day.dt, part.rows.length]),
      [
        ['2024-09-30', 0],
        ['2024-10-01', 1],
      ],
    );
  });

  it('refuses a batch without days, and days that are not consecutive parts of one batch', () => {
    assert.throws(() => splitRowsByDt([], () => 0, []), /at least one day/);
    assert.throws(() => splitRowsByDt([], () => 0, [days[1]!, days[0]!]), /not consecutive/);
    assert.throws(
      () => splitRowsByDt([], () => 0, [days[0]!, { dt: '2024-10-01', minBlock: 151, maxBlock: 200 }]),
      /not consecutive/,
    );
  });

  it("refuses a row outside the batch's days", () => {
    assert.throws(() => splitRowsByDt(rows, (row) => row.ts, [days[1]!]), /2024-09-30 is outside/);
  });
});

describe('dayRangesOfBlocks', () => {
  const midnight = 1_727_740_800; // 2024-10-01T00:00:00Z
  const blocks = (timestamps: number[], first = 100) =>
    timestamps.map((timestamp, i) => ({ number: first + i, timestamp }));

  it('gives each day the blocks whose timestamps fall on it, half-open', () => {
    assert.deepEqual(
      dayRangesOfBlocks(
        { minBlock: 100, maxBlock: 104 },
        blocks([midnight - 2, midnight - 1, midnight, midnight + 5]),
      ),
      [
        { dt: '2024-09-30', minBlock: 100, maxBlock: 102 },
        { dt: '2024-10-01', minBlock: 102, maxBlock: 104 },
      ],
    );
  });

  it('spans three days when a batch does, and one when it does not', () => {
    const day = 86_400;
    assert.deepEqual(
      dayRangesOfBlocks(
        { minBlock: 100, maxBlock: 103 },
        blocks([midnight - 1, midnight + 1, midnight + day]),
      ).map((d) => [d.dt, d.maxBlock - d.minBlock]),
      [
        ['2024-09-30', 1],
        ['2024-10-01', 1],
        ['2024-10-02', 1],
      ],
    );
    assert.deepEqual(dayRangesOfBlocks({ minBlock: 100, maxBlock: 102 }, blocks([midnight, midnight])), [
      { dt: '2024-10-01', minBlock: 100, maxBlock: 102 },
    ]);
  });

  it('refuses blocks that are not exactly the batch, in order, with days that never go back', () => {
    assert.throws(
      () => dayRangesOfBlocks({ minBlock: 100, maxBlock: 103 }, blocks([midnight, midnight])),
      /has 3 blocks, got 2/,
    );
    assert.throws(
      () => dayRangesOfBlocks({ minBlock: 100, maxBlock: 102 }, blocks([midnight, midnight], 101)),
      /out of place/,
    );
    assert.throws(
      () => dayRangesOfBlocks({ minBlock: 100, maxBlock: 102 }, blocks([midnight, midnight - 1])),
      /dated before/,
    );
  });
});
