// What a schedule does with the runs it created once they end or stall: history limits prune
// finished runs, the stop rule halts a schedule whose runs keep failing (and a spec change
// starts it again), and progressDeadlineSeconds expires a run that makes no progress, whose
// range then gets a new attempt.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { findCondition } from '../../../controllers/planning/conditions.ts';
import { ATTEMPT_LABEL, EXPIRED_BY_ANNOTATION } from '../../../controllers/planning/scheduledRuns.ts';
import { INGESTION_ROOT_PATHS } from '../../../dataplane/paths.ts';
import { kubeClients, requireLocalPodRunner } from '../../support/kube.ts';
import { ScheduleWorld } from './scheduleWorld.ts';

let world: ScheduleWorld | undefined;

afterEach(async () => {
  await world?.cleanup();
  world = undefined;
});

const live = async (w: ScheduleWorld, name: string) =>
  (await w.runsOf(name)).filter((run) => !run.metadata?.deletionTimestamp);

test(
  'history: finished runs beyond successfulRunsHistoryLimit are deleted',
  { timeout: 300_000 },
  async () => {
    await requireLocalPodRunner();
    world = await ScheduleWorld.create('sched-hist', { anvil: true });
    const w = world;
    await w.mine(45);
    await w.startOperator();
    await w.createSchedule('ingest', {
      model: 'ingest',
      chain: w.chain,
      trigger: { realtime: true },
      backfill: { sinceBlock: 0 },
      maxBatchesPerRun: 1,
      successfulRunsHistoryLimit: 1,
      runTemplate: { spec: { executor: 'job' } },
    });
    const done = await w.waitForStatus(
      'ingest',
      'the four batches before the head to be ingested',
      (s) => (s.status?.processedThroughBlock ?? -1) >= 39 && s,
      240_000,
    );
    assert.ok(done.status?.lastSuccessfulTime, 'lastSuccessfulTime is not set');
    const kept = await w.waitForStatus('ingest', 'older successful runs to be pruned', async () => {
      const runs = await live(w, 'ingest');
      return runs.length === 1 && runs;
    });
    assert.equal(kept[0]?.status?.phase, 'Succeeded');
    assert.equal(kept[0]?.spec.blocks?.start, 30, 'the newest run is the one kept');
    const events = await kubeClients().events.listNamespacedEvent({ namespace: w.namespace });
    const deletes = events.items.filter(
      (event) => event.reason === 'SuccessfulDelete' && event.regarding?.name === 'ingest',
    );
    assert.ok(deletes.length >= 1, 'no SuccessfulDelete Event');
  },
);

test(
  'the stop rule: after stopAfterFailedRuns (5) failed runs in a row the schedule stops; a spec change starts it again',
  { timeout: 300_000 },
  async () => {
    await requireLocalPodRunner();
    world = await ScheduleWorld.create('sched-stop');
    const w = world;
    // Inputs that say complete, with no files behind them: every run of this batch fails.
    await w.writeCompleteMarkers(INGESTION_ROOT_PATHS.logs, [0]);
    await w.startOperator();
    await w.createSchedule('broken', {
      model: 'erc20_transfers',
      chain: w.chain,
      trigger: { realtime: true },
      backfill: { sinceBlock: 0 },
      // stopAfterFailedRuns keeps its default (5): a field older CRDs lack would be pruned if one
      // of them is installed when the schedule is created (see ScheduleWorld's CRD guard).
      failedRunsHistoryLimit: 0,
      runTemplate: { spec: { executor: 'job', maxRetriesPerBatch: 0 } },
    });
    const stopped = await w.waitForStatus(
      'broken',
      'the schedule to stop after five failed runs',
      (s) => findCondition(s.status?.conditions, 'Stopped')?.status === 'True' && s,
      240_000,
    );
    assert.equal(stopped.status?.consecutiveFailedRuns, 5);
    assert.equal(findCondition(stopped.status?.conditions, 'Ready')?.reason, 'Stopped');
    const runs = await live(w, 'broken');
    assert.deepEqual(
      runs.map((run) => `${run.status?.phase} ${run.metadata?.labels?.[ATTEMPT_LABEL]}`).sort(),
      ['Failed 1', 'Failed 2', 'Failed 3', 'Failed 4', 'Failed 5'],
      'the failed runs of the streak are kept although failedRunsHistoryLimit is 0, and no sixth was made',
    );

    // A spec change starts a new count: the old streak's runs are pruned, a new run is made.
    const failedUids = new Set(runs.map((run) => run.metadata?.uid));
    await w.patchSchedule('broken', { suspend: true });
    await w.patchSchedule('broken', { suspend: false });
    const fresh = await w.waitForStatus('broken', 'a new run after the spec changed', async () =>
      (await live(w, 'broken')).find((run) => !failedUids.has(run.metadata?.uid)),
    );
    assert.equal(fresh.spec.blocks?.start, 0);
    await w.waitForStatus(
      'broken',
      'Stopped to turn False under the new spec',
      (s) => findCondition(s.status?.conditions, 'Stopped')?.status === 'False' && s,
    );
  },
);

test(
  'progressDeadlineSeconds: a run without progress is expired and its range gets a new attempt',
  { timeout: 300_000 },
  async () => {
    // No worker Secret: the run's Job never starts, so the run makes no progress.
    world = await ScheduleWorld.create('sched-stall', { workerSecret: false });
    const w = world;
    await w.writeCompleteMarkers(INGESTION_ROOT_PATHS.logs, [0, 10]);
    await w.startOperator();
    await w.createSchedule('stalled', {
      model: 'erc20_transfers',
      chain: w.chain,
      trigger: { realtime: true },
      backfill: { sinceBlock: 0 },
      progressDeadlineSeconds: 60,
      runTemplate: { spec: { executor: 'job' } },
    });
    const first = await w.waitForStatus(
      'stalled',
      'the first run',
      async () => (await w.runsOf('stalled'))[0],
    );
    const second = await w.waitForStatus(
      'stalled',
      'the stalled run to expire and a second attempt to start',
      async () => (await w.runsOf('stalled')).find((run) => run.metadata?.labels?.[ATTEMPT_LABEL] === '2'),
      150_000,
    );
    assert.deepEqual(second.spec.blocks, first.spec.blocks);
    const expired = await w.runs.get(w.namespace, first.metadata!.name!);
    assert.equal(expired?.status?.phase, 'Expired');
    assert.equal(expired?.metadata?.annotations?.[EXPIRED_BY_ANNOTATION], 'progressDeadlineSeconds');
    const events = await kubeClients().events.listNamespacedEvent({ namespace: w.namespace });
    assert.ok(
      events.items.some((event) => event.reason === 'RunExpired' && event.regarding?.name === 'stalled'),
      'no RunExpired Event on the schedule',
    );
  },
);
