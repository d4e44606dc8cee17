import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type DtCoverageRow, coverageReport, dtRange, markersForBatch } from '../../../dataplane/markers.ts';
import { InvalidValueError } from '../../../dataplane/validNames.ts';

const ROOT = 'blockbatch/token_transfers/erc20_transfers_v1';
const batch = { minBlock: 1200, maxBlock: 1300 };

/** A part of the batch starting at `batchStart`: the blocks [minBlock, maxBlock) of day `dt`. */
function part(dt: string, rowCount: number, minBlock = 1200, maxBlock = 1300, batchStart = 1200) {
  return {
    dt,
    minBlock,
    maxBlock,
    dataPath: `${ROOT}/chain=op/dt=${dt}/${String(batchStart).padStart(12, '0')}.parquet`,
    rowCount,
  };
}

describe('markersForBatch', () => {
  it('writes one marker per part, each with the part count and its own blocks', () => {
    const markers = markersForBatch({
      chain: 'op',
      rootPath: ROOT,
      batch,
      parts: [part('2024-09-30', 7, 1200, 1241), part('2024-10-01', 0, 1241, 1300)],
      processName: 'default/erc20-transfers-abc',
      writerName: 'worker-7d9f-x2',
    });
    assert.deepEqual(markers, [
      {
        chain: 'op',
        dt: '2024-09-30',
        rootPath: ROOT,
        dataPath: `${ROOT}/chain=op/dt=2024-09-30/000000001200.parquet`,
        minBlock: 1200,
        maxBlock: 1241,
        rowCount: 7,
        numParts: 2,
        processName: 'default/erc20-transfers-abc',
        writerName: 'worker-7d9f-x2',
      },
      {
        chain: 'op',
        dt: '2024-10-01',
        rootPath: ROOT,
        dataPath: `${ROOT}/chain=op/dt=2024-10-01/000000001200.parquet`,
        minBlock: 1241,
        maxBlock: 1300,
        rowCount: 0,
        numParts: 2,
        processName: 'default/erc20-transfers-abc',
        writerName: 'worker-7d9f-x2',
      },
    ]);
  });

  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['no parts', { parts: [] }, /at least one part/],
    [
      'two parts on one day',
      { parts: [part('2024-10-01', 1, 1200, 1250), part('2024-10-01', 2, 1250, 1300)] },
      /not one per day in day order/,
    ],
    [
      'days out of block order',
      { parts: [part('2024-10-02', 1, 1200, 1250), part('2024-10-01', 2, 1250, 1300)] },
      /not one per day in day order/,
    ],
    [
      'a part of another batch',
      { parts: [part('2024-10-01', 1, 1200, 1300, 1300)] },
      /is not the batch's path/,
    ],
    [
      'parts with a gap',
      { parts: [part('2024-10-01', 1, 1200, 1250), part('2024-10-02', 1, 1251, 1300)] },
      /do not tile it: blocks \[1250, 1251\) are in no part/,
    ],
    [
      'parts that overlap',
      { parts: [part('2024-10-01', 1, 1200, 1251), part('2024-10-02', 1, 1250, 1300)] },
      /do not tile it: part \[1250, 1300\) overlaps/,
    ],
    [
      'a part short of the batch end',
      { parts: [part('2024-10-01', 1, 1200, 1299)] },
      /blocks \[1299, 1300\) are in no part/,
    ],
    [
      'a part past the batch end',
      { parts: [part('2024-10-01', 1, 1200, 1301)] },
      /past the batch's last block 1299/,
    ],
    ['an empty batch', { batch: { minBlock: 5, maxBlock: 5 } }, /is empty/],
    ['a hostile process name', { processName: "x'; DROP TABLE t; --" }, /invalid process name/],
    ['a hostile writer name', { writerName: 'pod\nname' }, /invalid writer name/],
    ['a negative row count', { parts: [part('2024-10-01', -1)] }, /row count/],
  ];
  for (const [name, overrides, message] of bad) {
    it(`refuses ${name}`, () => {
      const input = {
        chain: 'op',
        rootPath: ROOT,
        batch,
        parts: [part('2024-10-01', 1)],
        processName: 'run',
        writerName: 'pod',
        ...overrides,
      } as Parameters<typeof markersForBatch>[0];
      assert.throws(
        () => markersForBatch(input),
        (error: Error) => {
          assert.ok(error instanceof InvalidValueError);
          assert.match(error.message, message);
          return true;
        },
      );
    });
  }
});

describe('dtRange', () => {
  it('lists every day, inclusive, across a month and a leap day', () => {
    assert.deepEqual(dtRange('2024-02-28', '2024-03-01'), ['2024-02-28', '2024-02-29', '2024-03-01']);
    assert.deepEqual(dtRange('2024-03-01', '2024-03-01'), ['2024-03-01']);
    assert.deepEqual(dtRange('2024-03-02', '2024-03-01'), []);
  });
});

describe('coverageReport', () => {
  const rows: DtCoverageRow[] = [
    {
      rootPath: 'ingestion/blocks_v1',
      dt: '2024-10-01',
      coveredBlocks: 43_200,
      completeBatches: 22,
      rowCount: 43_200,
    },
    {
      rootPath: 'ingestion/blocks_v1',
      dt: '2024-10-03',
      coveredBlocks: 21_600,
      completeBatches: 11,
      rowCount: 21_600,
    },
  ];

  it('fills the grid of root paths × days, with zeros where nothing is covered', () => {
    const report = coverageReport(
      {
        chain: 'op',
        rootPaths: ['ingestion/blocks_v1', 'ingestion/logs_v1'],
        fromDt: '2024-10-01',
        toDt: '2024-10-03',
      },
      rows,
      43_200,
    );
    assert.deepEqual(
      report.map((row) => [row.rootPath, row.dt, row.coveredBlocks, row.expectedBlocks, row.ratio]),
      [
        ['ingestion/blocks_v1', '2024-10-01', 43_200, 43_200, 1],
        ['ingestion/blocks_v1', '2024-10-02', 0, 43_200, 0],
        ['ingestion/blocks_v1', '2024-10-03', 21_600, 43_200, 0.5],
        ['ingestion/logs_v1', '2024-10-01', 0, 43_200, 0],
        ['ingestion/logs_v1', '2024-10-02', 0, 43_200, 0],
        ['ingestion/logs_v1', '2024-10-03', 0, 43_200, 0],
      ],
    );
  });
});
