// `model-runner coverage`: its arguments, and the report from what the markers said.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildCoverageReport, formatCoverageReport, missingRanges } from '../../../cli/coverageReport.ts';
import { UsageError, parseCommandLine } from '../../../cli/modelRunnerArgs.ts';

const ENV = { CLICKHOUSE_URL: 'http://ch:8123', CLICKHOUSE_DATABASE: 'envdb' };

test('coverage: defaults (every root path, 7 days), flags over the environment', () => {
  assert.deepEqual(parseCommandLine(['coverage', '--chain', 'ethereum'], ENV), {
    command: 'coverage',
    chain: 'ethereum',
    rootPaths: [],
    days: 7,
    clickhouseUrl: 'http://ch:8123',
    clickhouseDatabase: 'envdb',
    rpcUrl: undefined,
    json: false,
  });
  assert.deepEqual(
    parseCommandLine(
      [
        'coverage',
        '--chain',
        'op',
        '--root-path',
        'ingestion/logs_v1',
        '--root-path',
        'ingestion/blocks_v1',
        '--root-path',
        'ingestion/logs_v1',
        '--days',
        '30',
        '--json',
        '--clickhouse',
        'http://other:8123',
        '--clickhouse-database',
        'db2',
        '--rpc',
        'http://node:8545',
      ],
      ENV,
    ),
    {
      command: 'coverage',
      chain: 'op',
      rootPaths: ['ingestion/logs_v1', 'ingestion/blocks_v1'],
      days: 30,
      clickhouseUrl: 'http://other:8123',
      clickhouseDatabase: 'db2',
      rpcUrl: 'http://node:8545',
      json: true,
    },
  );
});

const refused = [
  { argv: ['coverage'], why: /--chain is required/ },
  { argv: ['coverage', '--chain', 'x', '--days', '0'], why: /--days/ },
  { argv: ['coverage', '--chain', 'x', '--days', '367'], why: /--days/ },
  { argv: ['coverage', '--chain', 'x', '--days', 'seven'], why: /--days/ },
  { argv: ['coverage', '--chain', 'x', '--root-path', "a' OR '1"], why: /--root-path/ },
  { argv: ['coverage', '--chain', 'x', 'extra'], why: /unexpected arguments/ },
];

for (const { argv, why } of refused) {
  test(`coverage refuses ${argv.slice(1).join(' ')}`, () => {
    assert.throws(
      () => parseCommandLine(argv, ENV),
      (error: Error) => error instanceof UsageError && why.test(error.message),
    );
  });
}

test('coverage without a marker store is refused', () => {
  assert.throws(() => parseCommandLine(['coverage', '--chain', 'x'], {}), /marker store is required/);
});

test('missingRanges: the parts of a span no range holds', () => {
  const covered = [
    { minBlock: 100, maxBlock: 200 },
    { minBlock: 300, maxBlock: 400 },
    { minBlock: 0, maxBlock: 50 },
  ];
  assert.deepEqual(missingRanges(covered, { minBlock: 0, maxBlock: 500 }), [
    { minBlock: 50, maxBlock: 100 },
    { minBlock: 200, maxBlock: 300 },
    { minBlock: 400, maxBlock: 500 },
  ]);
  assert.deepEqual(missingRanges(covered, { minBlock: 120, maxBlock: 180 }), []);
  assert.deepEqual(missingRanges([], { minBlock: 5, maxBlock: 9 }), [{ minBlock: 5, maxBlock: 9 }]);
});

test('buildCoverageReport: expected from the ingested day, nominal for days not ingested, missing ranges and lag', () => {
  const report = buildCoverageReport({
    chain: { name: 'local', expectedBlocksPerDay: 1000 },
    fromDt: '2026-06-01',
    toDt: '2026-06-03',
    today: '2026-06-03',
    dayFraction: 0.5,
    rootPaths: ['ingestion/blocks_v1', 'blockbatch/m/d_v1'],
    rows: [
      {
        rootPath: 'ingestion/blocks_v1',
        dt: '2026-06-02',
        coveredBlocks: 900,
        completeBatches: 9,
        rowCount: 900,
      },
      {
        rootPath: 'blockbatch/m/d_v1',
        dt: '2026-06-02',
        coveredBlocks: 300,
        completeBatches: 3,
        rowCount: 7,
      },
    ],
    days: [{ dt: '2026-06-02', minBlock: 0, maxBlock: 1000 }],
    complete: [
      ...[0, 100, 200, 300, 400, 600, 700, 800, 900].map((minBlock) => ({
        rootPath: 'ingestion/blocks_v1',
        minBlock,
        maxBlock: minBlock + 100,
        dts: ['2026-06-02'],
        rowCount: 100,
      })),
      ...[0, 100, 200].map((minBlock) => ({
        rootPath: 'blockbatch/m/d_v1',
        minBlock,
        maxBlock: minBlock + 100,
        dts: ['2026-06-02'],
        rowCount: 2,
      })),
    ],
    tip: { block: 999, source: 'newest ingested block' },
  });
  const byKey = Object.fromEntries(report.rows.map((row) => [`${row.rootPath} ${row.dt}`, row]));
  assert.deepEqual(byKey['ingestion/blocks_v1 2026-06-02'], {
    rootPath: 'ingestion/blocks_v1',
    dt: '2026-06-02',
    expectedBlocks: 1000,
    coveredBlocks: 900,
    percent: 90,
    completeBatches: 9,
    rowCount: 900,
    missing: [{ start: 500, end: 599 }],
  });
  assert.deepEqual(byKey['blockbatch/m/d_v1 2026-06-02']?.missing, [{ start: 300, end: 999 }]);
  assert.equal(byKey['ingestion/blocks_v1 2026-06-01']?.expectedBlocks, 1000);
  assert.equal(byKey['ingestion/blocks_v1 2026-06-01']?.missing, undefined);
  assert.equal(byKey['ingestion/blocks_v1 2026-06-03']?.expectedBlocks, 500, "today's nominal blocks so far");
  assert.deepEqual(report.lag, [
    { rootPath: 'ingestion/blocks_v1', newestBlock: 999, lagBlocks: 0 },
    { rootPath: 'blockbatch/m/d_v1', newestBlock: 299, lagBlocks: 700 },
  ]);
  const text = formatCoverageReport(report);
  assert.match(text, /ROOT PATH\s+DAY\s+EXPECTED\s+COVERED\s+%\s+MISSING/);
  assert.match(text, /ingestion\/blocks_v1\s+2026-06-02\s+1000\s+900\s+90\.0\s+500-599/);
  assert.match(text, /ingestion\/blocks_v1\s+2026-06-01\s+1000\s+0\s+0\.0\s+day not ingested/);
  assert.match(text, /tip: block 999 \(newest ingested block\)/);
  assert.match(text, /blockbatch\/m\/d_v1\s+299\s+700/);
});
