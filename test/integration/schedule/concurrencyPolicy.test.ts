// concurrencyPolicy against a real API server and real markers. Without a worker Secret the
// runs never start, so they stay active for as long as a test needs: each policy meets an
// active run. A schedule follows from the ingestion head it first sees (block 50 here); new
// input markers written afterwards are the head, those before are the gaps of the window.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import { blockRangeFromApi } from '../../../contract/apiConversions.ts';
import type { ModelRun, ModelSchedule } from '../../../crds/generated/types.ts';
import { INGESTION_ROOT_PATHS } from '../../../dataplane/paths.ts';
import { ScheduleWorld } from './scheduleWorld.ts';

const LOGS = INGESTION_ROOT_PATHS.logs;
const every = (from: number, to: number) => Array.from({ length: (to - from) / 10 }, (_, i) => from + i * 10);

let world: ScheduleWorld;

beforeEach(async () => {
  world = await ScheduleWorld.create('sched-cc', { workerSecret: false });
  await world.writeCompleteMarkers(LOGS, every(0, 50));
  await world.startOperator();
});

afterEach(async () => {
  await world?.cleanup();
});

function spec(policy: 'Allow' | 'Forbid' | 'Replace', maxBatchesPerRun: number): ModelSchedule['spec'] {
  return {
    model: 'erc20_transfers',
    chain: world.chain,
    trigger: { realtime: true },
    backfill: { sinceBlock: 0 },
    concurrencyPolicy: policy,
    maxBatchesPerRun,
    runTemplate: { spec: { executor: 'job' } },
  };
}

function describe(runs: readonly ModelRun[]): string[] {
  return runs
    .map((run) => {
      const range = blockRangeFromApi(run.spec.blocks!);
      return `${run.metadata?.labels?.['modelrunner.io/schedule-stream']} ${range.minBlock}-${range.maxBlock - 1}`;
    })
    .sort();
}

/** Waits until the schedule has seen `pending` batches, so what it decided about them is in. */
function seen(name: string, pending: number) {
  return world.waitForStatus(
    name,
    `${name} to see ${pending} pending batches`,
    (s) => s.status?.pendingBatches === pending && s.status.active !== undefined && s,
  );
}

test(
  'Forbid: one run per stream; new work waits while the stream has an active run',
  { timeout: 120_000 },
  async () => {
    await world.createSchedule('forbid', spec('Forbid', 2));
    await seen('forbid', 5);
    assert.deepEqual(describe(await world.runsOf('forbid')), ['gaps 0-19']);

    await world.writeCompleteMarkers(LOGS, every(50, 90));
    await world.waitForStatus(
      'forbid',
      'a head run next to the gap run',
      async () => (await world.runsOf('forbid')).length === 2,
    );
    assert.deepEqual(describe(await world.runsOf('forbid')), ['gaps 0-19', 'head 50-69']);

    await world.writeCompleteMarkers(LOGS, every(90, 100));
    const status = await seen('forbid', 10);
    assert.deepEqual(
      describe(await world.runsOf('forbid')),
      ['gaps 0-19', 'head 50-69'],
      'Forbid started a second run',
    );
    assert.equal(status.status?.active?.length, 2);
  },
);

test('Allow: runs side by side over everything pending', { timeout: 120_000 }, async () => {
  await world.createSchedule('allow', spec('Allow', 2));
  await world.waitForStatus(
    'allow',
    'runs over the whole gap',
    async () => (await world.runsOf('allow')).length === 3,
  );
  await world.writeCompleteMarkers(LOGS, every(50, 80));
  await world.waitForStatus(
    'allow',
    'runs over the new head too',
    async () => (await world.runsOf('allow')).length === 5,
  );
  await seen('allow', 8);
  assert.deepEqual(describe(await world.runsOf('allow')), [
    'gaps 0-19',
    'gaps 20-39',
    'gaps 40-49',
    'head 50-69',
    'head 70-79',
  ]);
});

test(
  "Replace: new work replaces the stream's active run with one over all of it",
  { timeout: 120_000 },
  async () => {
    await world.createSchedule('replace', spec('Replace', 10));
    await seen('replace', 5);
    await world.writeCompleteMarkers(LOGS, every(50, 70));
    await world.waitForStatus(
      'replace',
      'a gap run and a head run',
      async () => (await world.runsOf('replace')).length === 2,
    );
    const [gapRun, firstHead] = (await world.runsOf('replace')).sort(
      (a, b) => a.spec.blocks!.start - b.spec.blocks!.start,
    );
    assert.deepEqual(describe([gapRun!, firstHead!]), ['gaps 0-49', 'head 50-69']);

    await world.writeCompleteMarkers(LOGS, every(70, 80));
    const replaced = await world.waitForStatus('replace', 'the head run to be replaced', async () => {
      const runs = await world.runsOf('replace');
      const live = runs.filter((run) => !run.metadata?.deletionTimestamp);
      return (
        !live.some((run) => run.metadata?.name === firstHead!.metadata?.name) && live.length === 2 && live
      );
    });
    assert.deepEqual(describe(replaced), ['gaps 0-49', 'head 50-79']);
    assert.ok(
      replaced.some((run) => run.metadata?.uid === gapRun!.metadata?.uid),
      'the gap run was touched',
    );
  },
);
