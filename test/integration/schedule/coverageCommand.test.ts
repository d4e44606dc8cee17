// `model-runner coverage` as a person runs it, against the stack's ClickHouse: markers for
// yesterday and today on chain `local` in a database of this test's own, with a batch across
// midnight, a hole in ingestion and a model that trails it. No JSON-RPC endpoint: the tip is the
// newest ingested block.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createServerClient } from '../../../adapters/clickhouse/clickhouseClient.ts';
import { ClickHouseMarkerStore } from '../../../adapters/clickhouse/markerStore.ts';
import type { NewMarker } from '../../../dataplane/markers.ts';
import { INGESTION_ROOT_PATHS, dataPath } from '../../../dataplane/paths.ts';
import { ERC20_TRANSFERS_MANIFEST } from '../../../models/manifests.ts';
import { uniqueIdentifier } from '../../support/names.ts';
import { repoRoot, stackEnv } from '../../../devtools/stackEnv.ts';

const BLOCKS = INGESTION_ROOT_PATHS.blocks;
const TRANSFERS = ERC20_TRANSFERS_MANIFEST.outputs[0]!.rootPath;
const database = uniqueIdentifier('cov');
const today = new Date().toISOString().slice(0, 10);
const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
let store: ClickHouseMarkerStore;

/** Batch `start` of 100 blocks, in one part, or in two across midnight at `split`. */
function batch(rootPath: string, start: number, split?: number): NewMarker[] {
  const parts =
    split === undefined
      ? [{ dt: start < 950 ? yesterday : today, minBlock: start, maxBlock: start + 100 }]
      : [
          { dt: yesterday, minBlock: start, maxBlock: split },
          { dt: today, minBlock: split, maxBlock: start + 100 },
        ];
  return parts.map((part) => ({
    chain: 'local',
    rootPath,
    dataPath: dataPath(rootPath, 'local', part.dt, start),
    ...part,
    rowCount: 1,
    numParts: parts.length,
    processName: 'test',
    writerName: 'test',
  }));
}

before(async () => {
  store = new ClickHouseMarkerStore({
    client: createServerClient(stackEnv().CLICKHOUSE_URL),
    ownsClient: true,
    database,
  });
  await store.ensureTable();
  const markers: NewMarker[] = [];
  // Ingestion: blocks 0-1599, batch 900 across midnight at 950, batch 1200 missing.
  for (let start = 0; start < 1600; start += 100) {
    if (start === 1200) continue;
    markers.push(...batch(BLOCKS, start, start === 900 ? 950 : undefined));
  }
  // The model: up to block 899 yesterday, and 1000-1099 today.
  for (const start of [0, 100, 200, 300, 400, 500, 600, 700, 800, 1000])
    markers.push(...batch(TRANSFERS, start));
  await store.writeMarkers(markers);
});

after(async () => {
  await createServerClient(stackEnv().CLICKHOUSE_URL)
    .command({ query: `DROP DATABASE IF EXISTS \`${database}\`` })
    .catch(() => undefined);
  await store?.close();
});

function coverage(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = stackEnv();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'cli', 'model-runner.ts'), 'coverage', ...args], {
      env: {
        PATH: process.env.PATH ?? '',
        CLICKHOUSE_URL: env.CLICKHOUSE_URL,
        CLICKHOUSE_DATABASE: database,
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

test('coverage --json: per day and root path, expected against covered, the missing ranges, the lag at the tip', async () => {
  const { code, stdout, stderr } = await coverage(['--chain', 'local', '--days', '3', '--json']);
  assert.equal(code, 0, stderr);
  const report = JSON.parse(stdout) as {
    tip: { block: number; source: string };
    rows: {
      rootPath: string;
      dt: string;
      expectedBlocks: number;
      coveredBlocks: number;
      missing?: { start: number; end: number }[];
    }[];
    lag: { rootPath: string; newestBlock: number; lagBlocks: number }[];
  };
  const row = (rootPath: string, dt: string) =>
    report.rows.find((r) => r.rootPath === rootPath && r.dt === dt)!;
  assert.deepEqual(
    [...new Set(report.rows.map((r) => r.rootPath))],
    [TRANSFERS, BLOCKS].sort(),
    'every root path with markers, by default',
  );
  assert.equal(report.rows.length, 6, 'two root paths × three days');
  assert.deepEqual(
    [
      row(BLOCKS, yesterday).expectedBlocks,
      row(BLOCKS, yesterday).coveredBlocks,
      row(BLOCKS, yesterday).missing,
    ],
    [950, 950, []],
  );
  assert.deepEqual(
    [row(BLOCKS, today).expectedBlocks, row(BLOCKS, today).coveredBlocks, row(BLOCKS, today).missing],
    [650, 550, [{ start: 1200, end: 1299 }]],
  );
  assert.deepEqual(row(TRANSFERS, yesterday).missing, [{ start: 900, end: 949 }]);
  assert.equal(row(TRANSFERS, yesterday).coveredBlocks, 900);
  assert.deepEqual(row(TRANSFERS, today).missing, [
    { start: 950, end: 999 },
    { start: 1100, end: 1599 },
  ]);
  assert.deepEqual(report.tip, { block: 1599, source: 'newest ingested block' });
  assert.deepEqual(
    report.lag.sort((a, b) => a.rootPath.localeCompare(b.rootPath)),
    [
      { rootPath: TRANSFERS, newestBlock: 1099, lagBlocks: 500 },
      { rootPath: BLOCKS, newestBlock: 1599, lagBlocks: 0 },
    ].sort((a, b) => a.rootPath.localeCompare(b.rootPath)),
  );
});

test('coverage for people: a table, one root path when asked', async () => {
  const { code, stdout, stderr } = await coverage([
    '--chain',
    'local',
    '--root-path',
    TRANSFERS,
    '--days',
    '2',
  ]);
  assert.equal(code, 0, stderr);
  assert.match(stdout, /ROOT PATH\s+DAY\s+EXPECTED\s+COVERED\s+%\s+MISSING/);
  assert.match(stdout, new RegExp(`${TRANSFERS}\\s+${today}\\s+650\\s+100\\s+15\\.3\\s+950-999, 1100-1599`));
  assert.doesNotMatch(stdout, /ingestion\/blocks_v1\s+\d{4}-/);
  assert.match(stdout, /tip: block 1599 \(newest ingested block\)/);
});

test('coverage of an unknown chain is a usage error', async () => {
  const { code, stderr } = await coverage(['--chain', 'nowhere']);
  assert.equal(code, 2);
  assert.match(stderr, /unknown chain "nowhere"/);
});
