// Realtime schedules follow a chain that grows a block a second (a private anvil): an `ingest`
// schedule follows the safe tip, an `erc20_transfers` schedule follows ingest's markers. Lag
// stays bounded; suspending ingest makes its lag grow in status and stops the transfers'
// head; resuming catches both up. Runs use the job executor (no WorkerPool needed).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ModelSchedule } from '../../../crds/generated/types.ts';
import { findCondition } from '../../../controllers/planning/conditions.ts';
import { LAGGING_BATCHES } from '../../../controllers/planning/scheduleStatus.ts';
import { requireLocalPodRunner } from '../../support/kube.ts';
import { ScheduleWorld } from './scheduleWorld.ts';

let world: ScheduleWorld;

before(async () => {
  await requireLocalPodRunner();
  world = await ScheduleWorld.create('sched-rt', { anvil: true });
  await world.mine(5);
  await world.mineEvery(1);
  await world.startOperator();
});

after(async () => {
  await world?.cleanup();
});

const realtime = (model: string): ModelSchedule['spec'] => ({
  model,
  chain: world.chain,
  trigger: { realtime: true },
  runTemplate: { spec: { executor: 'job', maxRetriesPerBatch: 1 } },
});

const lagOf = (schedule: ModelSchedule) => schedule.status?.lag?.blocks;
/** The schedule's status once it carries this branch's fields (see ScheduleWorld's CRD guard). */
const current = (name: string) =>
  world.waitForStatus(
    name,
    `${name}'s status`,
    (s) => s.status?.headBlock !== undefined && s.status.lag && s,
  );
const processed = (schedule: ModelSchedule) => schedule.status?.processedThroughBlock ?? -1;

test(
  'ingest and erc20_transfers follow the chain; suspending ingest lets its lag grow and stops the transfers head; resuming catches both up',
  { timeout: 600_000 },
  async () => {
    await world.createSchedule('ingest', realtime('ingest'));
    await world.createSchedule('transfers', realtime('erc20_transfers'));
    const bound = LAGGING_BATCHES * world.batchSize;

    // Both get going: three batches past where each started following.
    const ingestStart = await world.waitForStatus(
      'ingest',
      'ingest to start following',
      (s) => s.status?.followingFromBlock,
    );
    await world.waitForStatus(
      'ingest',
      'ingest to model three batches',
      (s) => processed(s) >= ingestStart + 3 * world.batchSize - 1,
      180_000,
    );
    await world.waitForStatus(
      'transfers',
      'transfers to model three batches of what ingest wrote',
      (s) => processed(s) >= ingestStart + 3 * world.batchSize - 1,
      180_000,
    );

    // Lag stays bounded while anvil mines: sampled for 30 s, both keep moving and stay near the head.
    const firstIngest = processed(await current('ingest'));
    const firstTransfers = processed(await current('transfers'));
    for (let sample = 0; sample < 15; sample++) {
      const [ingest, transfers] = [await current('ingest'), await current('transfers')];
      assert.ok(
        lagOf(ingest)! < bound,
        `ingest lag ${lagOf(ingest)} ≥ ${bound}: ${JSON.stringify(ingest.status)}`,
      );
      assert.ok(
        lagOf(transfers)! < bound,
        `transfers lag ${lagOf(transfers)} ≥ ${bound}: ${JSON.stringify(transfers.status)}`,
      );
      assert.equal(findCondition(ingest.status?.conditions, 'Lagging')?.status, 'False');
      await sleep(2_000);
    }
    await world.waitForStatus(
      'ingest',
      'ingest to move on',
      (s) => processed(s) > firstIngest + world.batchSize,
    );
    await world.waitForStatus(
      'transfers',
      'transfers to move on',
      (s) => processed(s) > firstTransfers + world.batchSize,
    );

    // Suspend ingest while anvil keeps mining.
    await world.patchSchedule('ingest', { suspend: true });
    const quiet = await world.waitForStatus(
      'ingest',
      'ingest to be suspended with no active run',
      (s) =>
        findCondition(s.status?.conditions, 'Suspended')?.status === 'True' &&
        (s.status?.active ?? []).length === 0 &&
        s,
    );
    const transfersHead = await world.waitForStatus(
      'transfers',
      "transfers' head to reach what ingest wrote before it stopped",
      (s) =>
        s.status?.headBlock !== undefined &&
        s.status.headBlock >= (quiet.status?.ingestedThroughBlock ?? 0) &&
        s.status.headBlock,
    );
    const lagAtSuspend = lagOf(quiet) ?? 0;
    const grown = await world.waitForStatus(
      'ingest',
      "ingest's lag to grow by four batches in status",
      (s) => (lagOf(s) ?? 0) >= lagAtSuspend + 4 * world.batchSize && s,
      120_000,
    );
    assert.equal(findCondition(grown.status?.conditions, 'Ready')?.reason, 'Suspended');
    const transfersNow = await current('transfers');
    assert.equal(
      transfersNow.status?.headBlock,
      transfersHead,
      "transfers' head moved while ingest was suspended",
    );
    // From the reconcile that saw the suspend on (it wrote the condition), no run is created. A
    // look that began before the patch may still have created one just before.
    const suspendedAt = Date.parse(
      String(findCondition(quiet.status?.conditions, 'Suspended')?.lastTransitionTime ?? '0'),
    );
    assert.equal(
      (await world.runsOf('ingest')).filter(
        (run) =>
          run.metadata?.creationTimestamp &&
          Date.parse(String(run.metadata.creationTimestamp)) >
            Math.max(suspendedAt, Date.parse(quiet.status?.lastScheduleTime ?? '0')) + 1000,
      ).length,
      0,
      'a suspended schedule created a run',
    );

    // Resume: both catch up with the chain as it is now.
    const tipAtResume = await world.blockNumber();
    await world.patchSchedule('ingest', { suspend: false });
    await world.waitForStatus(
      'ingest',
      'ingest to catch up with the chain after resuming',
      (s) => processed(s) >= tipAtResume - world.batchSize && (lagOf(s) ?? bound) < bound,
      240_000,
    );
    await world.waitForStatus(
      'transfers',
      'transfers to catch up after ingest resumed',
      (s) => (s.status?.headBlock ?? 0) > transfersHead && processed(s) >= tipAtResume - world.batchSize,
      240_000,
    );
  },
);
