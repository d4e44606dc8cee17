// The marker store on both ClickHouse engines the project must support: the stack's
// server (18.16, over HTTP) and a current ClickHouse (chdb, in process, through the same
// @clickhouse/client). The same statements run on both; the last test runs one scenario
// on each and requires identical answers.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ClickHouseClient } from '@clickhouse/client';
import { createClickHouseClient, createServerClient } from '../../../adapters/clickhouse/clickhouseClient.ts';
import { ClickHouseMarkerStore } from '../../../adapters/clickhouse/markerStore.ts';
import { type Chains, loadChains, requireChain } from '../../../dataplane/chains.ts';
import { type MarkerStore, type NewMarker, markersForBatch } from '../../../dataplane/markers.ts';
import { dataPath } from '../../../dataplane/paths.ts';
import { InvalidValueError } from '../../../dataplane/validNames.ts';
import { BATCH_SIZE, COMPLETENESS_CASES } from '../../support/batchCompletenessCases.ts';
import { uniqueIdentifier } from '../../support/names.ts';
import { stackEnv } from '../../../devtools/stackEnv.ts';

const BLOCKS = 'ingestion/blocks_v1';
const LOGS = 'ingestion/logs_v1';
const OUT_A = 'blockbatch/token_transfers/erc20_transfers_v1';
const OUT_B = 'blockbatch/token_balances/erc20_balances_v1';

interface Engine {
  name: string;
  open(database: string, clock?: () => Date): ClickHouseMarkerStore;
  dropDatabase(database: string): Promise<void>;
}

const stackServer: Engine = {
  name: 'ClickHouse 18.16 (stack)',
  open: (database, clock) =>
    new ClickHouseMarkerStore({
      client: createServerClient(stackEnv().CLICKHOUSE_URL),
      ownsClient: true,
      database,
      clock,
      chains: TEST_CHAINS,
    }),
  dropDatabase: async (database) => {
    const admin = createServerClient(stackEnv().CLICKHOUSE_URL);
    try {
      await admin.command({ query: `DROP DATABASE IF EXISTS ${database}` });
    } finally {
      await admin.close();
    }
  },
};

// libchdb binds one data directory per process, so every chdb store shares one client.
const chdbClient: ClickHouseClient = await createClickHouseClient('chdb:memory');
const currentClickHouse: Engine = {
  name: 'current ClickHouse (chdb)',
  open: (database, clock) =>
    new ClickHouseMarkerStore({ client: chdbClient, database, clock, chains: TEST_CHAINS }),
  dropDatabase: async (database) => {
    await chdbClient.command({ query: `DROP DATABASE IF EXISTS ${database}` });
  },
};

function at(seconds: number): Date {
  return new Date(Date.UTC(2024, 9, 1, 12, 0, seconds));
}

/**
 * Markers committing one batch of one root path, one part per listed day. A part holds
 * `blocks` of the batch's blocks (default: as many as it has rows; the last part takes the rest).
 */
function batchMarkers(
  chain: string,
  rootPath: string,
  minBlock: number,
  size: number,
  parts: [dt: string, rows: number, blocks?: number][],
  updatedAt = at(0),
): NewMarker[] {
  let next = minBlock;
  return markersForBatch({
    chain,
    rootPath,
    batch: { minBlock, maxBlock: minBlock + size },
    parts: parts.map(([dt, rowCount, blocks], index) => {
      const partMin = next;
      next = index === parts.length - 1 ? minBlock + size : partMin + (blocks ?? rowCount);
      return {
        dt,
        rowCount,
        minBlock: partMin,
        maxBlock: next,
        dataPath: dataPath(rootPath, chain, dt, minBlock),
      };
    }),
    processName: 'default/test-run',
    writerName: 'test-host',
  }).map((marker) => ({ ...marker, updatedAt }));
}

/** Every chain these tests write: 100-block batches. */
const TEST_CHAINS: Chains = new Map(
  [
    'straddle',
    'dupes',
    'latest',
    'clock',
    'pending',
    'all',
    'empty',
    'coverage',
    'same',
    'same_days',
    'tiling',
    'x',
  ].map((name, index) => [
    name,
    {
      name,
      chainId: 1_000_000 + index,
      rpc: { env: 'UNUSED_RPC_URL', secret: { name: 'unused', key: 'url' } },
      expectedBlocksPerDay: 100,
      batchSizes: [{ fromBlock: 0, batchSize: BATCH_SIZE }],
      tipSafetyBlocks: 0,
      rpcClient: requireChain(loadChains(), 'local').rpcClient,
    },
  ]),
);

/** Ingestion complete for batches 0 and 100 (both roots); 200 only has blocks; 300 has half its logs. */
async function writePendingScenario(store: MarkerStore, chain: string): Promise<void> {
  const day = '2024-10-01';
  for (const root of [BLOCKS, LOGS]) {
    await store.writeMarkers(batchMarkers(chain, root, 0, 100, [[day, 100]]));
    await store.writeMarkers(batchMarkers(chain, root, 100, 100, [[day, 100]]));
  }
  await store.writeMarkers(batchMarkers(chain, BLOCKS, 200, 100, [[day, 100]]));
  await store.writeMarkers(batchMarkers(chain, BLOCKS, 300, 100, [[day, 100]]));
  await store.writeMarkers(
    batchMarkers(chain, LOGS, 300, 100, [
      [day, 5],
      ['2024-10-02', 5],
    ]).slice(0, 1),
  );
  // OUT_A is done for batch 0; OUT_B is done for nothing (its batch 100 is half written).
  await store.writeMarkers(batchMarkers(chain, OUT_A, 0, 100, [[day, 3]]));
  await store.writeMarkers(
    batchMarkers(chain, OUT_B, 100, 100, [
      [day, 1],
      ['2024-10-02', 1],
    ]).slice(1),
  );
}

/** Three days of blocks at 100 blocks a batch, the middle batch straddling midnight. */
async function writeCoverageScenario(store: MarkerStore, chain: string): Promise<void> {
  await store.writeMarkers(batchMarkers(chain, BLOCKS, 0, 100, [['2024-10-01', 100]]));
  await store.writeMarkers(
    batchMarkers(chain, BLOCKS, 100, 100, [
      ['2024-10-01', 60],
      ['2024-10-02', 40],
    ]),
  );
  await store.writeMarkers(batchMarkers(chain, BLOCKS, 200, 100, [['2024-10-02', 100]]));
  await store.writeMarkers(batchMarkers(chain, BLOCKS, 300, 100, [['2024-10-03', 100]]));
  // An incomplete batch covers nothing.
  await store.writeMarkers(
    batchMarkers(chain, BLOCKS, 400, 100, [
      ['2024-10-03', 1],
      ['2024-10-04', 1],
    ]).slice(0, 1),
  );
  // Rewritten twice: counted once.
  await store.writeMarkers(batchMarkers(chain, BLOCKS, 300, 100, [['2024-10-03', 100]], at(5)));
  await store.writeMarkers(batchMarkers(chain, BLOCKS, 300, 100, [['2024-10-03', 100]], at(9)));
}

for (const engine of [stackServer, currentClickHouse]) {
  describe(`marker store on ${engine.name}`, () => {
    const database = uniqueIdentifier('t');
    let store: ClickHouseMarkerStore;

    before(async () => {
      store = engine.open(database);
      await store.ensureTable();
      await store.ensureTable(); // idempotent
    });

    after(async () => {
      await engine.dropDatabase(database);
      await store.close();
    });

    it('commits a batch that straddles midnight only when both days are recorded', async () => {
      const markers = batchMarkers('straddle', LOGS, 1200, 100, [
        ['2024-09-30', 7, 30],
        ['2024-10-01', 3, 70],
      ]);
      assert.equal(await store.isBatchComplete('straddle', LOGS, 1200), false);
      await store.writeMarkers([markers[0]!]);
      assert.equal(await store.isBatchComplete('straddle', LOGS, 1200), false);
      assert.deepEqual(await store.completeBatches('straddle', [LOGS]), []);
      await store.writeMarkers([markers[1]!]);
      assert.equal(await store.isBatchComplete('straddle', LOGS, 1200), true);
      assert.deepEqual(await store.completeBatches('straddle', [LOGS]), [
        { rootPath: LOGS, minBlock: 1200, maxBlock: 1300, dts: ['2024-09-30', '2024-10-01'], rowCount: 10 },
      ]);
      // Another root path and another batch are unaffected.
      assert.equal(await store.isBatchComplete('straddle', BLOCKS, 1200), false);
      assert.equal(await store.isBatchComplete('straddle', LOGS, 1300), false);
    });

    it('reads back every column of the latest marker per data path', async () => {
      const first = batchMarkers('dupes', LOGS, 500, 100, [['2024-10-01', 10]], at(1));
      const second = batchMarkers('dupes', LOGS, 500, 100, [['2024-10-01', 12]], at(7));
      const third = batchMarkers('dupes', LOGS, 500, 100, [['2024-10-01', 11]], at(3));
      await store.writeMarkers(first);
      await store.writeMarkers(second);
      await store.writeMarkers(third); // older than `second`: it must not win
      assert.deepEqual(await store.batchMarkers('dupes', LOGS, 500), [
        {
          chain: 'dupes',
          dt: '2024-10-01',
          rootPath: LOGS,
          dataPath: `${LOGS}/chain=dupes/dt=2024-10-01/000000000500.parquet`,
          minBlock: 500,
          maxBlock: 600,
          rowCount: 12,
          numParts: 1,
          processName: 'default/test-run',
          writerName: 'test-host',
          updatedAt: at(7),
        },
      ]);
      assert.deepEqual(await store.completeBatches('dupes', [LOGS]), [
        { rootPath: LOGS, minBlock: 500, maxBlock: 600, dts: ['2024-10-01'], rowCount: 12 },
      ]);
    });

    it('lets the latest marker decide completeness', async () => {
      await store.writeMarkers(batchMarkers('latest', LOGS, 0, 100, [['2024-10-01', 1]], at(1)));
      assert.equal(await store.isBatchComplete('latest', LOGS, 0), true);
      // A later rewrite announces two parts and has written only one so far.
      await store.writeMarkers(
        batchMarkers(
          'latest',
          LOGS,
          0,
          100,
          [
            ['2024-10-01', 1, 50],
            ['2024-10-02', 1],
          ],
          at(2),
        ).slice(0, 1),
      );
      assert.equal(await store.isBatchComplete('latest', LOGS, 0), false);
      // A stale marker arriving late (older updated_at) changes nothing.
      await store.writeMarkers(batchMarkers('latest', LOGS, 0, 100, [['2024-10-01', 1]], at(0)));
      assert.equal(await store.isBatchComplete('latest', LOGS, 0), false);
      assert.equal((await store.batchMarkers('latest', LOGS, 0))[0]?.numParts, 2);
    });

    it('stamps updated_at from its clock when a marker has none', async () => {
      const clocked = engine.open(database, () => new Date('2030-01-02T03:04:05.678Z'));
      const [marker] = batchMarkers('clock', LOGS, 0, 100, [['2024-10-01', 1]]);
      const { updatedAt: _ignored, ...withoutTime } = marker!;
      await clocked.writeMarkers([withoutTime]);
      await clocked.close();
      const [read] = await store.batchMarkers('clock', LOGS, 0);
      assert.equal(read?.updatedAt.toISOString(), '2030-01-02T03:04:05.000Z');
    });

    it('finds pending batches: ingested in every input, minus complete outputs', async () => {
      await writePendingScenario(store, 'pending');
      const query = { chain: 'pending', inputRootPaths: [BLOCKS, LOGS], outputRootPaths: [OUT_A, OUT_B] };
      // By block, then root path (OUT_B sorts before OUT_A).
      assert.deepEqual(await store.pendingBatches(query), [
        { rootPath: OUT_B, minBlock: 0, maxBlock: 100 },
        { rootPath: OUT_B, minBlock: 100, maxBlock: 200 },
        { rootPath: OUT_A, minBlock: 100, maxBlock: 200 },
      ]);
      assert.deepEqual(await store.pendingBatches({ ...query, range: { minBlock: 100, maxBlock: 400 } }), [
        { rootPath: OUT_B, minBlock: 100, maxBlock: 200 },
        { rootPath: OUT_A, minBlock: 100, maxBlock: 200 },
      ]);
      assert.deepEqual(await store.pendingBatches({ ...query, limit: 1 }), [
        { rootPath: OUT_B, minBlock: 0, maxBlock: 100 },
      ]);
      // With blocks as the only input, batch 200 and 300 are ingested too.
      const blocksOnly = await store.pendingBatches({
        ...query,
        inputRootPaths: [BLOCKS],
        outputRootPaths: [OUT_A],
      });
      assert.deepEqual(
        blocksOnly.map((batch) => batch.minBlock),
        [100, 200, 300],
      );
    });

    it('finds the batches complete in every one of several root paths, as sorted first blocks', async () => {
      await writePendingScenario(store, 'all');
      assert.deepEqual(await store.batchesCompleteInAll('all', [BLOCKS]), [0, 100, 200, 300]);
      // LOGS' batch 300 is half written: only 0 and 100 are complete in both.
      assert.deepEqual(await store.batchesCompleteInAll('all', [BLOCKS, LOGS]), [0, 100]);
      assert.deepEqual(await store.batchesCompleteInAll('all', [LOGS, BLOCKS, LOGS]), [0, 100]);
      assert.deepEqual(await store.batchesCompleteInAll('all', [BLOCKS, OUT_A]), [0]);
      assert.deepEqual(await store.batchesCompleteInAll('all', [OUT_B]), []);
      assert.deepEqual(
        await store.batchesCompleteInAll('all', [BLOCKS], [{ minBlock: 100, maxBlock: 300 }]),
        [100, 200],
      );
      assert.deepEqual(
        await store.batchesCompleteInAll(
          'all',
          [BLOCKS, LOGS],
          [
            { minBlock: 0, maxBlock: 100 },
            { minBlock: 100, maxBlock: 101 },
            { minBlock: 300, maxBlock: 400 },
          ],
        ),
        [0, 100],
      );
      assert.deepEqual(
        await store.batchesCompleteInAll(
          'all',
          [BLOCKS],
          [
            { minBlock: 300, maxBlock: 1000 },
            { minBlock: 0, maxBlock: 50 },
          ],
        ),
        [0, 300],
      );
      assert.deepEqual(await store.batchesCompleteInAll('all', [BLOCKS], []), []);
      assert.deepEqual(await store.batchesCompleteInAll('empty', [BLOCKS]), []);
    });

    it('reports coverage per day: the blocks of each day in complete batches, a straddling batch on both days', async () => {
      await writeCoverageScenario(store, 'coverage');
      const rows = await store.coverage({
        chain: 'coverage',
        rootPaths: [BLOCKS, LOGS],
        fromDt: '2024-10-01',
        toDt: '2024-10-04',
      });
      assert.deepEqual(rows, [
        { rootPath: BLOCKS, dt: '2024-10-01', coveredBlocks: 160, completeBatches: 2, rowCount: 160 },
        { rootPath: BLOCKS, dt: '2024-10-02', coveredBlocks: 140, completeBatches: 2, rowCount: 140 },
        { rootPath: BLOCKS, dt: '2024-10-03', coveredBlocks: 100, completeBatches: 1, rowCount: 100 },
      ]);
      const secondDayOnly = await store.coverage({
        chain: 'coverage',
        rootPaths: [BLOCKS],
        fromDt: '2024-10-02',
        toDt: '2024-10-02',
      });
      assert.deepEqual(secondDayOnly, [
        { rootPath: BLOCKS, dt: '2024-10-02', coveredBlocks: 140, completeBatches: 2, rowCount: 140 },
      ]);
    });

    it('answers every shared completeness case as the JS rule does', async () => {
      for (const testCase of COMPLETENESS_CASES) {
        const markers: NewMarker[] = testCase.parts.map((part) => ({
          chain: 'tiling',
          dt: part.dt,
          rootPath: LOGS,
          dataPath: dataPath(LOGS, 'tiling', part.dt, testCase.batchStart),
          minBlock: part.minBlock,
          maxBlock: part.maxBlock,
          rowCount: 1,
          numParts: part.numParts,
          processName: 'default/test-run',
          writerName: 'test-host',
          updatedAt: at(part.at ?? 0),
        }));
        if (testCase.parts.some((part) => part.maxBlock <= part.minBlock)) {
          // The store never takes an empty part; the SQL's own check is a second line.
          await assert.rejects(() => store.writeMarkers(markers), /is empty/);
          assert.equal(testCase.complete, false);
          continue;
        }
        await store.writeMarkers(markers);
        assert.equal(
          await store.isBatchComplete('tiling', LOGS, testCase.batchStart),
          testCase.complete,
          testCase.name,
        );
        const complete = await store.completeBatches('tiling', [LOGS], {
          minBlock: testCase.batchStart,
          maxBlock: testCase.batchStart + BATCH_SIZE,
        });
        assert.equal(complete.length, testCase.complete ? 1 : 0, testCase.name);
        const starts = await store.batchesCompleteInAll(
          'tiling',
          [LOGS],
          [{ minBlock: testCase.batchStart, maxBlock: testCase.batchStart + BATCH_SIZE }],
        );
        assert.deepEqual(starts, testCase.complete ? [testCase.batchStart] : [], testCase.name);
      }
    });

    it('refuses hostile values before any SQL runs, and the table survives', async () => {
      const attempts: (() => Promise<unknown>)[] = [
        () => store.isBatchComplete("x' OR 1=1 --", LOGS, 0),
        () => store.isBatchComplete('x', "ingestion/logs_v1') OR ('1'='1", 0),
        () => store.isBatchComplete('x', LOGS, -1),
        () => store.completeBatches('x', [`${LOGS}; DROP TABLE blockbatch_markers`]),
        () => store.pendingBatches({ chain: 'x', inputRootPaths: [LOGS], outputRootPaths: ["a'"] }),
        () =>
          store.coverage({ chain: 'x', rootPaths: [LOGS], fromDt: "2024-10-01' OR '1", toDt: '2024-10-02' }),
        () =>
          store.writeMarkers([
            { ...batchMarkers('x', LOGS, 0, 100, [['2024-10-01', 1]])[0]!, writerName: "w');DROP" },
          ]),
      ];
      for (const attempt of attempts) await assert.rejects(attempt, InvalidValueError);
      assert.throws(() => engine.open('bad-name; DROP DATABASE x'), InvalidValueError);
      assert.equal(await store.isBatchComplete('straddle', LOGS, 1200), true);
    });
  });
}

describe('the two engines agree', () => {
  const database = uniqueIdentifier('t');
  const stores: ClickHouseMarkerStore[] = [];

  after(async () => {
    for (const store of stores) await store.close();
    await stackServer.dropDatabase(database);
    await currentClickHouse.dropDatabase(database);
    await chdbClient.close();
  });

  it('gives identical answers to the same writes and queries', async () => {
    const answers = [];
    for (const engine of [stackServer, currentClickHouse]) {
      const store = engine.open(database);
      stores.push(store);
      await store.ensureTable();
      // Two chains: both scenarios write batch 100's first-day marker of BLOCKS with the same
      // updated_at, and which of two equal versions wins is the engine's choice, not a rule.
      await writePendingScenario(store, 'same');
      await writeCoverageScenario(store, 'same_days');
      answers.push({
        pending: await store.pendingBatches({
          chain: 'same',
          inputRootPaths: [BLOCKS, LOGS],
          outputRootPaths: [OUT_A, OUT_B],
        }),
        complete: await store.completeBatches('same', [BLOCKS, LOGS, OUT_A, OUT_B]),
        completeInAll: await store.batchesCompleteInAll('same', [BLOCKS, LOGS]),
        coverage: await store.coverage({
          chain: 'same_days',
          rootPaths: [BLOCKS, LOGS],
          fromDt: '2024-09-30',
          toDt: '2024-10-05',
        }),
        markers: await store.batchMarkers('same_days', BLOCKS, 100),
      });
    }
    assert.equal(answers.length, 2);
    assert.deepEqual(answers[1], answers[0]);
    assert.equal(answers[0]!.pending.length, 3);
    assert.equal(answers[0]!.markers.length, 2);
  });
});
