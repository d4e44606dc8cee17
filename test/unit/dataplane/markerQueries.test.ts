import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  batchMarkersSql,
  batchesCompleteInAllSql,
  clickhouseDateTime,
  completeBatchesSql,
  coverageSql,
  createDatabaseSql,
  createMarkersTableSql,
  markerInsertRow,
  parseBatchStartsRow,
  parseCompleteBatchRow,
  parseCoverageRow,
  parseMarkerRow,
  pendingBatchesSql,
} from '../../../dataplane/markerQueries.ts';
import type { NewMarker } from '../../../dataplane/markers.ts';
import { sqlString } from '../../../dataplane/sqlLiteral.ts';
import { InvalidValueError } from '../../../dataplane/validNames.ts';

const TABLE = { database: 'markers_db', table: 'blockbatch_markers' };
const BATCH_SIZES = [{ fromBlock: 0, batchSize: 100 }];
/** A chain as the SQL builders take it: a name and its batch sizes. */
const chainNamed = (name: string) => ({ name, batchSizes: BATCH_SIZES });
const OP = chainNamed('op');

// Values an attacker (or a bug) might push through a ModelRun spec or a CLI flag.
const HOSTILE_STRINGS = [
  "op' OR 1=1 --",
  'op; DROP TABLE blockbatch_markers',
  'op\\',
  'op\n',
  '../op',
  '',
  'OP',
  'op`',
  'op/*x*/',
];

describe('the SQL builders refuse hostile values', () => {
  for (const value of HOSTILE_STRINGS) {
    it(`as a chain: ${JSON.stringify(value)}`, () => {
      assert.throws(
        () => completeBatchesSql(TABLE, chainNamed(value), ['ingestion/logs_v1']),
        InvalidValueError,
      );
      assert.throws(
        () => batchMarkersSql(TABLE, chainNamed(value), 'ingestion/logs_v1', 0),
        InvalidValueError,
      );
      assert.throws(
        () => batchesCompleteInAllSql(TABLE, chainNamed(value), ['ingestion/logs_v1']),
        InvalidValueError,
      );
    });
    it(`as a root path: ${JSON.stringify(value)}`, () => {
      assert.throws(() => completeBatchesSql(TABLE, OP, [value]), InvalidValueError);
      assert.throws(
        () => batchesCompleteInAllSql(TABLE, OP, ['ingestion/logs_v1', value]),
        InvalidValueError,
      );
      assert.throws(
        () =>
          pendingBatchesSql(TABLE, {
            chain: OP,
            inputRootPaths: ['ingestion/logs_v1'],
            outputRootPaths: [value],
          }),
        InvalidValueError,
      );
    });
    // Upper case is a fine identifier; every other hostile value is not.
    if (value !== 'OP') {
      it(`as a database: ${JSON.stringify(value)}`, () => {
        assert.throws(() => createDatabaseSql({ database: value, table: 't' }), InvalidValueError);
        assert.throws(() => createMarkersTableSql({ database: 'd', table: value }), InvalidValueError);
      });
    }
    it(`as a day: ${JSON.stringify(value)}`, () => {
      assert.throws(
        () =>
          coverageSql(TABLE, {
            chain: OP,
            rootPaths: ['ingestion/logs_v1'],
            fromDt: value,
            toDt: '2024-10-01',
          }),
        InvalidValueError,
      );
    });
  }

  const badNumbers = [-1, 1.5, Number.NaN, Infinity, 2 ** 60];
  for (const value of badNumbers) {
    it(`as a block number: ${value}`, () => {
      assert.throws(() => batchMarkersSql(TABLE, OP, 'ingestion/logs_v1', value), InvalidValueError);
      assert.throws(
        () => completeBatchesSql(TABLE, OP, ['ingestion/logs_v1'], { minBlock: value, maxBlock: 10 }),
        InvalidValueError,
      );
      assert.throws(
        () =>
          batchesCompleteInAllSql(
            TABLE,
            OP,
            ['ingestion/logs_v1'],
            [
              { minBlock: 0, maxBlock: 10 },
              { minBlock: 0, maxBlock: value },
            ],
          ),
        InvalidValueError,
      );
      assert.throws(
        () =>
          pendingBatchesSql(TABLE, {
            chain: OP,
            inputRootPaths: ['ingestion/logs_v1'],
            outputRootPaths: ['blockbatch/m/d_v1'],
            limit: value,
          }),
        InvalidValueError,
      );
    });
  }

  it('refuses empty root path lists', () => {
    assert.throws(() => completeBatchesSql(TABLE, OP, []), /at least one root path/);
    assert.throws(() => batchesCompleteInAllSql(TABLE, OP, []), /at least one root path/);
  });
});

describe('parseBatchStartsRow', () => {
  it('takes first blocks as numbers or as quoted 64-bit integers', () => {
    assert.deepEqual(parseBatchStartsRow({ batch_starts: [0, '100', 200] }), [0, 100, 200]);
    assert.deepEqual(parseBatchStartsRow({ batch_starts: [] }), []);
  });
  it('refuses anything else', () => {
    for (const row of [{}, { batch_starts: '0,100' }, { batch_starts: [-1] }, { batch_starts: ['1e3'] }]) {
      assert.throws(() => parseBatchStartsRow(row), InvalidValueError, JSON.stringify(row));
    }
  });
});

describe('sqlString', () => {
  const cases: [string, string][] = [
    ['plain', "'plain'"],
    ["it's", "'it\\'s'"],
    ['back\\slash', "'back\\\\slash'"],
    ["\\'", "'\\\\\\''"],
  ];
  for (const [input, expected] of cases) {
    it(`quotes ${JSON.stringify(input)}`, () => assert.equal(sqlString(input), expected));
  }
  it('refuses control characters', () => assert.throws(() => sqlString('a\u0000b'), InvalidValueError));
});

describe('the SQL text', () => {
  it('creates the table idempotently, with types both server versions know', () => {
    const sql = createMarkersTableSql(TABLE);
    assert.match(sql, /^CREATE TABLE IF NOT EXISTS `markers_db`\.`blockbatch_markers`/);
    assert.match(sql, /updated_at DateTime\('UTC'\)/);
    assert.match(sql, /ENGINE = ReplacingMergeTree\(updated_at\)/);
  });

  it('inlines only validated literals', () => {
    const sql = pendingBatchesSql(TABLE, {
      chain: OP,
      inputRootPaths: ['ingestion/logs_v1', 'ingestion/blocks_v1', 'ingestion/logs_v1'],
      outputRootPaths: ['blockbatch/m/d_v1'],
      range: { minBlock: 100, maxBlock: 900 },
      limit: 50,
    });
    assert.match(sql, /chain = 'op'/);
    assert.match(sql, /HAVING count\(\) = 2\n/); // duplicate inputs counted once
    // Parts start inside their batch: read one batch past the range, then cut on the batch.
    assert.match(sql, /min_block >= 100 AND min_block < 1000/);
    assert.match(sql, /WHERE \(\(batch_start >= 100 AND batch_start < 900\)\)/);
    assert.match(sql, /LIMIT 50$/);
    assert.doesNotMatch(sql, /ANTI|OVER \(/);
  });

  it('keeps several ranges one term of the WHERE, so they never widen the chain or root path filter', () => {
    const sql = batchesCompleteInAllSql(
      TABLE,
      OP,
      ['ingestion/logs_v1'],
      [
        { minBlock: 0, maxBlock: 100 },
        { minBlock: 500, maxBlock: 700 },
      ],
    );
    assert.match(
      sql,
      /chain = 'op' AND root_path IN \('ingestion\/logs_v1'\) AND \(\(min_block >= 0 AND min_block < 200\) OR \(min_block >= 500 AND min_block < 800\)\)/,
    );
    assert.match(
      sql,
      /WHERE \(\(batch_start >= 0 AND batch_start < 100\) OR \(batch_start >= 500 AND batch_start < 700\)\)/,
    );
  });

  it('reads coverage a month around the days, so batches crossing them are judged whole', () => {
    const sql = coverageSql(TABLE, {
      chain: OP,
      rootPaths: ['ingestion/logs_v1'],
      fromDt: '2024-10-01',
      toDt: '2024-10-31',
    });
    assert.match(sql, /dt >= toDate\('2024-08-31'\) AND dt <= toDate\('2024-12-01'\)/);
    assert.match(sql, /part_dt >= toDate\('2024-10-01'\) AND part_dt <= toDate\('2024-10-31'\)/);
  });
});

describe('markerInsertRow', () => {
  const marker: NewMarker = {
    chain: 'op',
    dt: '2024-10-01',
    rootPath: 'ingestion/logs_v1',
    dataPath: 'ingestion/logs_v1/chain=op/dt=2024-10-01/000000001200.parquet',
    minBlock: 1200,
    maxBlock: 1300,
    rowCount: 17,
    numParts: 1,
    processName: 'default/run-1',
    writerName: 'worker-0',
  };

  it('formats a row for JSONEachRow with a UTC DateTime', () => {
    assert.deepEqual(markerInsertRow(marker, new Date('2024-10-01T12:34:56.789Z')), {
      chain: 'op',
      dt: '2024-10-01',
      root_path: 'ingestion/logs_v1',
      data_path: 'ingestion/logs_v1/chain=op/dt=2024-10-01/000000001200.parquet',
      min_block: '1200',
      max_block: '1300',
      row_count: '17',
      num_parts: 1,
      process_name: 'default/run-1',
      writer_name: 'worker-0',
      updated_at: '2024-10-01 12:34:56',
    });
  });

  const bad: [string, Partial<NewMarker>][] = [
    ['a data path of another day', { dt: '2024-10-02' }],
    ['a range starting before its batch', { minBlock: 1100, maxBlock: 1250 }],
    ['a data path of another root', { rootPath: 'ingestion/blocks_v1' }],
    ['an empty range', { maxBlock: 1200 }],
    ['zero parts', { numParts: 0 }],
    ['a hostile data path', { dataPath: "ingestion/logs_v1/chain=op/dt=2024-10-01/x' OR 1.parquet" }],
    ['a hostile process name', { processName: "a'); DROP TABLE x; --" }],
  ];
  for (const [name, overrides] of bad) {
    it(`refuses ${name}`, () => {
      assert.throws(() => markerInsertRow({ ...marker, ...overrides }, new Date()), InvalidValueError);
    });
  }

  it('formats DateTime values without milliseconds', () => {
    assert.equal(clickhouseDateTime(new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 999))), '2024-01-02 03:04:05');
  });
});

describe('result parsing', () => {
  it('accepts 64-bit integers as strings and 32-bit ones as numbers', () => {
    assert.deepEqual(
      parseCompleteBatchRow({
        root_path: 'ingestion/logs_v1',
        min_block: '1200',
        max_block: '1300',
        dts: ['2024-10-02', '2024-10-01'],
        row_count: '5',
      }),
      {
        rootPath: 'ingestion/logs_v1',
        minBlock: 1200,
        maxBlock: 1300,
        dts: ['2024-10-01', '2024-10-02'],
        rowCount: 5,
      },
    );
    assert.equal(parseMarkerRow(markerRow(), 'op').updatedAt.toISOString(), '2024-10-01T12:00:00.000Z');
  });

  it('refuses malformed results', () => {
    assert.throws(
      () => parseCoverageRow({ root_path: 'r', dt: 'd', covered_blocks: '-1' }),
      InvalidValueError,
    );
    assert.throws(() => parseMarkerRow({ ...markerRow(), min_block: '12x' }, 'op'), InvalidValueError);
    assert.throws(() => parseMarkerRow({ ...markerRow(), min_block: undefined }, 'op'), InvalidValueError);
  });
});

function markerRow(): Record<string, unknown> {
  return {
    root_path: 'ingestion/logs_v1',
    data_path: 'ingestion/logs_v1/chain=op/dt=2024-10-01/000000001200.parquet',
    dt: '2024-10-01',
    min_block: '1200',
    max_block: '1300',
    row_count: '3',
    num_parts: 1,
    process_name: 'p',
    writer_name: 'w',
    updated_at: '2024-10-01 12:00:00',
  };
}
