// Many concurrent asks through the coalescer, on the stack's ClickHouse: each gets exactly what
// it would get alone, from far fewer queries.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createServerClient } from '../../../adapters/clickhouse/clickhouseClient.ts';
import { ClickHouseMarkerStore } from '../../../adapters/clickhouse/markerStore.ts';
import type { BlockRange } from '../../../dataplane/batches.ts';
import { requireChain, loadChains } from '../../../dataplane/chains.ts';
import { MarkerReadCoalescer } from '../../../dataplane/markerReadCoalescer.ts';
import { type NewMarker, markersForBatch } from '../../../dataplane/markers.ts';
import { INGESTION_ROOT_PATHS, dataPath } from '../../../dataplane/paths.ts';
import { stackEnv } from '../../../devtools/stackEnv.ts';
import { uniqueIdentifier } from '../../support/names.ts';

const { blocks: BLOCKS, logs: LOGS } = INGESTION_ROOT_PATHS;
const BATCHES = 60;

function complete(rootPath: string, minBlock: number): NewMarker[] {
  const dt = '2024-10-01';
  return markersForBatch({
    chain: 'local',
    rootPath,
    batch: { minBlock, maxBlock: minBlock + 100 },
    parts: [
      {
        dt,
        rowCount: 1,
        minBlock,
        maxBlock: minBlock + 100,
        dataPath: dataPath(rootPath, 'local', dt, minBlock),
      },
    ],
    processName: 'default/test-run',
    writerName: 'test-host',
  });
}

describe('the marker read coalescer on ClickHouse', () => {
  const database = uniqueIdentifier('t');
  const local = requireChain(loadChains(), 'local');
  const store = new ClickHouseMarkerStore({
    client: createServerClient(stackEnv().CLICKHOUSE_URL),
    ownsClient: true,
    database,
    chains: new Map([['local', { ...local, batchSizes: [{ fromBlock: 0, batchSize: 100 }] }]]),
  });

  before(async () => {
    await store.ensureTable();
    // Blocks complete for every batch, logs for every third: the answers differ by root path set.
    const markers: NewMarker[] = [];
    for (let i = 0; i < BATCHES; i++) {
      markers.push(...complete(BLOCKS, i * 100));
      if (i % 3 === 0) markers.push(...complete(LOGS, i * 100));
    }
    await store.writeMarkers(markers);
  });

  after(async () => {
    const admin = createServerClient(stackEnv().CLICKHOUSE_URL);
    await admin.command({ query: `DROP DATABASE IF EXISTS ${database}` });
    await admin.close();
    await store.close();
  });

  it('answers 120 concurrent asks as the store does alone, in fewer queries', async () => {
    let queries = 0;
    const coalescer = new MarkerReadCoalescer({
      batchesCompleteInAll: (chain, rootPaths, ranges) => {
        queries++;
        return store.batchesCompleteInAll(chain, rootPaths, ranges);
      },
    });
    const asks: { rootPaths: string[]; ranges: BlockRange[] }[] = [];
    for (let i = 0; i < 120; i++) {
      const start = ((i * 7) % BATCHES) * 100;
      const rootPaths = i % 2 === 0 ? [BLOCKS] : [LOGS, BLOCKS];
      // Mostly one batch, some two ranges, some reaching past the last batch.
      const ranges =
        i % 5 === 0
          ? [
              { minBlock: start, maxBlock: start + 250 },
              { minBlock: 0, maxBlock: 50 },
            ]
          : [{ minBlock: start, maxBlock: start + 100 }];
      asks.push({ rootPaths, ranges });
    }
    const together = await Promise.all(
      asks.map((ask) => coalescer.batchesCompleteInAll('local', ask.rootPaths, ask.ranges)),
    );
    const alone = [];
    for (const ask of asks) alone.push(await store.batchesCompleteInAll('local', ask.rootPaths, ask.ranges));
    assert.deepEqual(together, alone);
    assert.ok(alone.some((starts) => starts.length === 0) && alone.some((starts) => starts.length > 1));
    // One query at a time per root path set: the first ask of each goes alone, the rest together.
    assert.ok(queries <= 4, `${queries} queries for 120 asks`);
  });
});
