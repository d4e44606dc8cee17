// A backfill window with holes: some batches done, some inputs missing or incomplete. The
// schedule plans exactly the batches whose inputs are complete and whose outputs are not,
// which a direct marker query confirms; suspended it creates nothing, resumed its runs cover
// exactly those batches, each once. No worker Secret in the namespace, so the runs never start:
// what is checked is the planning.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ERC20_TRANSFERS_MANIFEST } from '../../../models/manifests.ts';
import { INGESTION_ROOT_PATHS } from '../../../dataplane/paths.ts';
import { dataPath } from '../../../dataplane/paths.ts';
import { blockRangeFromApi } from '../../../contract/apiConversions.ts';
import { ScheduleWorld } from './scheduleWorld.ts';

const LOGS = INGESTION_ROOT_PATHS.logs;
const TRANSFERS = ERC20_TRANSFERS_MANIFEST.outputs[0]!.rootPath;
const every = (from: number, to: number) => Array.from({ length: (to - from) / 10 }, (_, i) => from + i * 10);

let world: ScheduleWorld;

before(async () => {
  world = await ScheduleWorld.create('sched-holes', { workerSecret: false });
  // Inputs: batches 0-190, except holes at 50, 60 and 120, and batch 170 with one of its two parts.
  await world.writeCompleteMarkers(
    LOGS,
    every(0, 200).filter((start) => ![50, 60, 120, 170].includes(start)),
  );
  await world.markers.writeMarkers([
    {
      chain: world.chain,
      dt: '2026-01-01',
      rootPath: LOGS,
      dataPath: dataPath(LOGS, world.chain, '2026-01-01', 170),
      minBlock: 170,
      maxBlock: 175,
      rowCount: 1,
      numParts: 2,
      processName: 'test',
      writerName: 'test',
    },
  ]);
  // Outputs done for some; 150 has an output part that does not commit it.
  await world.writeCompleteMarkers(TRANSFERS, [0, 10, 20, 70, 130, 140]);
  await world.markers.writeMarkers([
    {
      chain: world.chain,
      dt: '2026-01-01',
      rootPath: TRANSFERS,
      dataPath: dataPath(TRANSFERS, world.chain, '2026-01-01', 150),
      minBlock: 150,
      maxBlock: 160,
      rowCount: 1,
      numParts: 2,
      processName: 'test',
      writerName: 'test',
    },
  ]);
  await world.startOperator();
});

after(async () => {
  await world?.cleanup();
});

test(
  'a window with holes plans exactly the missing, ready batches; resumed, its runs cover each of them once',
  { timeout: 180_000 },
  async () => {
    await world.createSchedule('holes', {
      model: 'erc20_transfers',
      chain: world.chain,
      trigger: { realtime: true },
      backfill: { sinceBlock: 0 },
      suspend: true,
      concurrencyPolicy: 'Allow',
      maxBatchesPerRun: 3,
      runTemplate: { spec: { executor: 'job' } },
    });
    const direct = await world.markers.pendingBatches({
      chain: world.chain,
      inputRootPaths: [LOGS],
      outputRootPaths: [TRANSFERS],
      range: { minBlock: 0, maxBlock: 1_000_000 },
    });
    const expected = [30, 40, 80, 90, 100, 110, 150, 160, 180, 190];
    assert.deepEqual(
      direct.map((batch) => batch.minBlock),
      expected,
      'the direct marker query disagrees with the fixture',
    );

    const planned = await world.waitForStatus(
      'holes',
      'the schedule to plan its window',
      (s) => s.status?.pendingBatches !== undefined && s.status.windowStartBlock !== undefined && s,
    );
    assert.equal(planned.status?.pendingBatches, direct.length);
    assert.equal(planned.status?.windowStartBlock, 0);
    assert.equal(planned.status?.followingFromBlock, 200);
    assert.equal(planned.status?.ingestedThroughBlock, 199);
    assert.equal(planned.status?.processedThroughBlock, 29);
    assert.deepEqual(planned.status?.lag, { blocks: 170, seconds: 170 });
    assert.deepEqual(planned.status?.coverage, { expectedBlocks: 160, coveredBlocks: 60, percent: 37.5 });
    assert.deepEqual(await world.runsOf('holes'), [], 'a suspended schedule created runs');

    await world.patchSchedule('holes', { suspend: false });
    const runs = await world.waitForStatus('holes', 'the runs of every pending batch', async () => {
      const found = await world.runsOf('holes');
      return found.length >= 5 && found;
    });
    const ranges = runs
      .map((run) => blockRangeFromApi(run.spec.blocks!))
      .sort((a, b) => a.minBlock - b.minBlock)
      .map((range) => `${range.minBlock}-${range.maxBlock - 1}`);
    assert.deepEqual(ranges, ['30-49', '80-109', '110-119', '150-169', '180-199']);
    for (const run of runs) {
      assert.equal(run.spec.model, 'erc20_transfers');
      assert.equal(run.spec.version, 'v1');
      assert.equal(run.metadata?.labels?.['modelrunner.io/schedule-stream'], 'gaps');
      assert.equal(run.metadata?.ownerReferences?.[0]?.kind, 'ModelSchedule');
    }
    const status = await world.waitForStatus(
      'holes',
      'the active runs in status',
      (s) => s.status?.active?.length === 5 && s,
    );
    assert.equal(status.status?.pendingBatches, 10);
    assert.match(status.status?.message ?? '', /10 pending batches \(10 in active runs\)/);
  },
);
