// spec.dates end to end: worker pods ingest a scripted JSON-RPC node whose blocks fall on chosen
// past UTC days, so the ingestion markers cover those days; an erc20_transfers ModelRun by
// dates then resolves to exactly the blocks of its days (status.blocks), through the markers,
// and succeeds. A run over a day ingestion has not passed yet stays Pending and says so, until
// the next day's first blocks are ingested.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ClickHouseMarkerStore } from '../../../adapters/clickhouse/markerStore.ts';
import { createServerClient } from '../../../adapters/clickhouse/clickhouseClient.ts';
import { stackEnv } from '../../../devtools/stackEnv.ts';
import { INGESTION_ROOT_PATHS, modelOutputRootPath } from '../../../dataplane/paths.ts';
import type { ModelRun } from '../../../crds/generated/types.ts';
import { findCondition } from '../../../controllers/planning/conditions.ts';
import { pollUntil } from '../../support/kube.ts';
import { OperatorWorld } from '../../support/operatorWorld.ts';
import { type ScriptedNode, startScriptedNode } from '../models/scriptedNode.ts';

const TRANSFERS_ROOT = modelOutputRootPath('erc20_transfers', 'erc20_transfers', 1);
const FINAL = ['Succeeded', 'Failed', 'Expired'];

/** Five past UTC days and the blocks on each: day boundaries fall inside 100-block batches. */
const DAYS = [
  { dt: '2024-01-10', first: 0 },
  { dt: '2024-01-11', first: 150 },
  { dt: '2024-01-12', first: 330 },
  { dt: '2024-01-13', first: 450 },
  { dt: '2024-01-14', first: 600 },
];

/** A block a minute from each day's midnight. */
function timestampOf(n: number): number {
  const day = DAYS.findLast((each) => n >= each.first)!;
  return Date.parse(`${day.dt}T00:00:00Z`) / 1000 + (n - day.first) * 60;
}

const TOKEN = `0x${'7e'.repeat(20)}`;
const ALICE = `0x${'a1'.repeat(20)}`;
const BOB = `0x${'b0'.repeat(20)}`;
/** One transfer on each day; blocks 120 and 470 lie on days outside the run's, in its batches. */
const TRANSFERS: Record<number, [string, string, bigint]> = {
  10: [ALICE, BOB, 1n],
  120: [ALICE, BOB, 2n],
  160: [BOB, ALICE, 3n],
  440: [ALICE, BOB, 4n],
  470: [BOB, ALICE, 5n],
  650: [ALICE, BOB, 6n],
};

let world: OperatorWorld;
let node: ScriptedNode;
let markers: ClickHouseMarkerStore;

function condition(run: ModelRun | undefined, type: string) {
  return findCondition(run?.status?.conditions, type);
}

async function completeBatches(rootPath: string, firsts: number[]): Promise<number[]> {
  const complete: number[] = [];
  for (const first of firsts)
    if (await markers.isBatchComplete('local', rootPath, first)) complete.push(first);
  return complete;
}

async function rowsWritten(rootPath: string, firsts: number[]): Promise<number> {
  let rows = 0;
  for (const first of firsts)
    for (const marker of await markers.batchMarkers('local', rootPath, first)) rows += marker.rowCount;
  return rows;
}

async function ingest(name: string, blocks: { start: number; end: number }): Promise<void> {
  await world.applyRun({ metadata: { name }, spec: { model: 'ingest', chain: 'local', blocks } });
  const run = await world.waitForPhase(name, FINAL, 240_000);
  assert.equal(run.status?.phase, 'Succeeded', JSON.stringify(run.status));
}

before(async () => {
  node = await startScriptedNode({ timestampOf, token: TOKEN, transfers: TRANSFERS, tip: 10_000 });
  world = await OperatorWorld.create('dates');
  // The operator reads the chain's tip, and the workers read its blocks, from the scripted node.
  await world.startOperator(undefined, { ETH_RPC_URL: node.url });
  await world.leader();
  await world.applyWorkers('workers-nonreads', ['local_backfill_nonreads'], 2, { ETH_RPC_URL: node.url });
  markers = new ClickHouseMarkerStore({
    client: createServerClient(stackEnv().CLICKHOUSE_URL),
    ownsClient: true,
    database: world.database,
  });
  // Ingestion of the first four days (blocks 0-599): it has reached 2024-01-13.
  await ingest('ingest-four-days', { start: 0, end: 599 });
});

after(async () => {
  await markers?.close();
  await world?.cleanup();
  node?.close();
});

describe('a ModelRun by dates', () => {
  it('resolves to exactly the blocks of its days through the ingestion markers, and succeeds', async () => {
    await world.applyRun({
      metadata: { name: 'by-days' },
      spec: { model: 'erc20_transfers', chain: 'local', dates: { start: '2024-01-11', end: '2024-01-12' } },
    });
    const run = await world.waitForPhase('by-days', FINAL, 240_000);
    assert.equal(run.status?.phase, 'Succeeded', JSON.stringify(run.status));
    // 2024-01-11 starts at block 150 and 2024-01-12 ends at block 449.
    assert.deepEqual(run.status?.blocks, { start: 150, end: 449 });
    assert.equal(condition(run, 'Planned')?.message, '4 batches over blocks 150-449');
    assert.deepEqual(run.status?.batches, {
      total: 4,
      skipped: 0,
      waiting: 0,
      queued: 0,
      succeeded: 4,
      failed: 0,
    });
    assert.equal(run.status?.progress, '4/4');
    // Whole batches are modeled: 100-499, the transfers at 120, 160, 440 and 470.
    assert.deepEqual(
      await completeBatches(TRANSFERS_ROOT, [0, 100, 200, 300, 400, 500]),
      [100, 200, 300, 400],
    );
    assert.equal(await rowsWritten(TRANSFERS_ROOT, [100, 200, 300, 400]), 4);
  });

  it('over a day ingestion has not passed: Pending, saying so, until the next day is ingested', async () => {
    await world.applyRun({
      metadata: { name: 'last-day' },
      spec: { model: 'erc20_transfers', chain: 'local', dates: { start: '2024-01-13', end: '2024-01-13' } },
    });
    const waiting = await pollUntil('the run to say it waits for its dates', async () => {
      const run = await world.getRun('last-day');
      return condition(run, 'Planned')?.status === 'False' ? run : undefined;
    });
    assert.equal(waiting?.status?.phase, 'Pending');
    assert.equal(condition(waiting, 'Planned')?.reason, 'WaitingForDates');
    assert.equal(
      waiting?.status?.message,
      'ingestion has reached 2024-01-13; the days 2024-01-13 to 2024-01-13 resolve to blocks once it has passed 2024-01-13',
    );
    assert.equal(waiting?.status?.blocks, undefined);
    assert.equal(waiting?.status?.batches, undefined);
    assert.deepEqual(await completeBatches(TRANSFERS_ROOT, [500]), []);

    await ingest('ingest-fifth-day', { start: 600, end: 699 });
    const done = await world.waitForPhase('last-day', FINAL, 240_000);
    assert.equal(done.status?.phase, 'Succeeded', JSON.stringify(done.status));
    assert.deepEqual(done.status?.blocks, { start: 450, end: 599 });
    assert.equal(condition(done, 'Planned')?.status, 'True');
    // Batch 400-499 was modeled by the run before: complete already, so skipped.
    assert.deepEqual([done.status?.batches?.skipped, done.status?.batches?.succeeded], [1, 1]);
    assert.deepEqual(await completeBatches(INGESTION_ROOT_PATHS.blocks, [600]), [600]);
    assert.deepEqual(await completeBatches(TRANSFERS_ROOT, [500, 600]), [500]);
  });
});
