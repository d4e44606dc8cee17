// Two operator processes never create a run twice. Leader election normally keeps one of two
// replicas idle; a replica that lost its lease may still be finishing a reconcile, though, so
// the guarantee must not rest on it. Here both processes lead at once (different Leases) and
// reconcile the same schedule side by side: run names are deterministic per (range, version,
// attempt), so the slower one meets AlreadyExists, and every batch ends up in exactly one run.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { blockRangeFromApi } from '../../../contract/apiConversions.ts';
import { INGESTION_ROOT_PATHS } from '../../../dataplane/paths.ts';
import { type OperatorProcess, ScheduleWorld } from './scheduleWorld.ts';

const LOGS = INGESTION_ROOT_PATHS.logs;
const every = (from: number, to: number) => Array.from({ length: (to - from) / 10 }, (_, i) => from + i * 10);

let world: ScheduleWorld;
let operators: OperatorProcess[];

before(async () => {
  // No worker Secret: the runs never start, so what is counted is what the schedules created.
  world = await ScheduleWorld.create('sched-two', { workerSecret: false });
  await world.writeCompleteMarkers(LOGS, every(0, 60));
  operators = await Promise.all([
    world.startOperator({ leaseName: 'operator-a', identity: 'operator-a' }),
    world.startOperator({ leaseName: 'operator-b', identity: 'operator-b' }),
  ]);
});

after(async () => {
  await world?.cleanup();
});

function createdBy(operator: OperatorProcess): { run: string; alreadyExisted: boolean }[] {
  return operator
    .lines()
    .filter((line) => line.msg === 'run created')
    .map((line) => ({ run: String(line.run), alreadyExisted: Boolean(line.alreadyExisted) }));
}

async function assertEachBatchInOneRun(batches: number): Promise<void> {
  const runs = await world.runsOf('shared');
  const names = runs.map((run) => run.metadata?.name);
  assert.equal(new Set(names).size, names.length);
  const starts = runs
    .flatMap((run) => {
      const range = blockRangeFromApi(run.spec.blocks!);
      return every(range.minBlock, range.maxBlock);
    })
    .sort((a, b) => a - b);
  assert.deepEqual(starts, every(0, batches * 10), 'a batch is in no run, or in two');
}

test(
  'two operators leading at once reconcile one schedule: every batch lands in exactly one run',
  { timeout: 180_000 },
  async (t) => {
    await world.createSchedule('shared', {
      model: 'erc20_transfers',
      chain: world.chain,
      trigger: { realtime: true },
      backfill: { sinceBlock: 0 },
      concurrencyPolicy: 'Allow',
      maxBatchesPerRun: 1,
      runTemplate: { spec: { executor: 'job' } },
    });
    await world.waitForStatus(
      'shared',
      'a run for each of the six batches',
      async () => (await world.runsOf('shared')).length >= 6,
    );
    await world.waitForStatus('shared', 'both operators to have decided', () =>
      operators.every((operator) => createdBy(operator).length >= 1),
    );
    await assertEachBatchInOneRun(6);

    // New work while both look every couple of seconds.
    await world.writeCompleteMarkers(LOGS, every(60, 90));
    await world.waitForStatus(
      'shared',
      'runs for the three new batches',
      async () => (await world.runsOf('shared')).length >= 9,
    );
    await world.waitForStatus(
      'shared',
      'the schedule to see all nine held',
      (s) => s.status?.pendingBatches === 9 && s.status.active?.length === 9,
    );
    await assertEachBatchInOneRun(9);

    const attempts = operators.flatMap(createdBy);
    const created = attempts.filter((attempt) => !attempt.alreadyExisted).map((attempt) => attempt.run);
    assert.equal(new Set(created).size, created.length, 'one run was created twice');
    assert.equal(created.length, 9);
    t.diagnostic(
      `${attempts.length - created.length} creations met AlreadyExists (the other operator had made the run)`,
    );
  },
);
