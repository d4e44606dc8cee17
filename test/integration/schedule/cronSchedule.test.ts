// The cron trigger with an injected clock, against the real API server and real markers: the
// ModelSchedule controller runs in this process on the operator's own wiring, and the test moves
// its clock. Missed times after an operator outage follow a CronJob's rules (the most recent one
// runs, once; startingDeadlineSeconds gives up older ones), and a DST boundary fires a fixed
// local time once, both when clocks go back and when they go forward.
//
// Runs never start here (no ModelRun controller runs); the test ends each run itself, as
// Succeeded, so the next cron time finds the same batches pending and starts a new attempt.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import {
  CustomResourceClient,
  EventRecorder,
  customResourceType,
  listWatchClient,
} from '../../../adapters/kube/index.ts';
import { ModelScheduleController } from '../../../controllers/modelschedule/modelScheduleController.ts';
import type { ModelRun, ModelSchedule } from '../../../crds/generated/types.ts';
import { MODEL_RUN, MODEL_SCHEDULE } from '../../../crds/kinds.ts';
import { parseChains } from '../../../dataplane/chains.ts';
import { INGESTION_ROOT_PATHS } from '../../../dataplane/paths.ts';
import { modelSchedulePorts } from '../../../operator/modelScheduleWiring.ts';
import { Informer } from '../../../operator/runtime/index.ts';
import { readFileSync } from 'node:fs';
import { kubeClients, pollUntil } from '../../support/kube.ts';
import { ScheduleWorld } from './scheduleWorld.ts';
import { chainReader } from '../../../operator/chainReader.ts';

const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

let world: ScheduleWorld;
let scheduleCache: Informer<ModelSchedule>;
let runCache: Informer<ModelRun>;
let now = new Date();
let controller: ModelScheduleController;

before(async () => {
  world = await ScheduleWorld.create('sched-cron', { workerSecret: false });
  await world.writeCompleteMarkers(INGESTION_ROOT_PATHS.logs, [0, 10]);
  const kube = kubeClients();
  const watch = listWatchClient(kube.config);
  scheduleCache = new Informer<ModelSchedule>({
    name: 'modelschedules',
    resource: { ...customResourceType(MODEL_SCHEDULE), namespace: world.namespace },
    client: watch,
    log,
  });
  runCache = new Informer<ModelRun>({
    name: 'modelruns',
    resource: { ...customResourceType(MODEL_RUN), namespace: world.namespace },
    client: watch,
    log,
  });
  scheduleCache.start();
  runCache.start();
  await Promise.all([scheduleCache.waitForSync(), runCache.waitForSync()]);
  const chains = parseChains(JSON.parse(readFileSync(world.chainsFile, 'utf8')));
  const ports = modelSchedulePorts({
    kube,
    schedules: world.schedules,
    scheduleCache,
    runs: new CustomResourceClient<ModelRun>(kube.customObjects, customResourceType(MODEL_RUN)),
    runCache,
    events: new EventRecorder({ events: kube.events, reportingInstance: 'cron-test', log }),
    markers: world.markers,
    chainReads: chainReader(new Map(), chains, log),
    settings: { chains, statusIntervalMs: 0 },
    log,
  });
  controller = new ModelScheduleController({ ...ports, clock: () => now });
});

after(async () => {
  await scheduleCache?.stop();
  await runCache?.stop();
  await world?.cleanup();
});

/** Waits until the caches show the schedule's and its runs' latest versions, as the API server has them. */
async function settle(name: string): Promise<void> {
  await pollUntil(`the caches to catch up with ${name}`, async () => {
    const schedule = await world.schedule(name);
    const runs = await world.runsOf(name);
    return (
      scheduleCache.get(world.namespace, name)?.metadata?.resourceVersion ===
        schedule.metadata?.resourceVersion &&
      runs.every(
        (run) =>
          runCache.get(world.namespace, run.metadata!.name!)?.metadata?.resourceVersion ===
          run.metadata?.resourceVersion,
      )
    );
  });
}

/** Moves the clock, reconciles once, and returns the runs the schedule has then. */
async function at(name: string, iso: string): Promise<ModelRun[]> {
  now = new Date(iso);
  await settle(name);
  // Retried like the work queue would: a status write can meet an older CRD for a moment (see ScheduleWorld).
  await pollUntil(`a reconcile of ${name} at ${iso}`, async () => {
    await controller.reconcile(`${world.namespace}/${name}`, log);
    return true;
  });
  await settle(name);
  return world.runsOf(name);
}

/** Ends every active run of the schedule as Succeeded (the job of a run controller, done by hand). */
async function finishRuns(name: string): Promise<void> {
  for (const run of await world.runsOf(name)) {
    if (run.status?.phase) continue;
    await world.runs.applyStatus(
      run,
      { phase: 'Succeeded', finishedAt: now.toISOString().replace(/\.\d+Z$/, 'Z') },
      'cron-test',
    );
  }
  await settle(name);
}

async function createCronSchedule(name: string, spec: Partial<ModelSchedule['spec']>): Promise<void> {
  await world.createSchedule(name, {
    model: 'erc20_transfers',
    chain: world.chain,
    trigger: { schedule: '0 * * * *' },
    backfill: { sinceBlock: 0 },
    runTemplate: { spec: { executor: 'job' } },
    ...spec,
  });
}

async function reasonsOfEvents(name: string): Promise<string[]> {
  const events = await kubeClients().events.listNamespacedEvent({ namespace: world.namespace });
  return events.items.filter((event) => event.regarding?.name === name).map((event) => event.reason ?? '');
}

// Every fake time lies after the schedules' real creation (the clock only moves forward).
const YEAR = new Date().getUTCFullYear() + 1;

test('missed cron times after an operator outage: the most recent one runs, once; older than the deadline, none', async () => {
  await createCronSchedule('hourly', { trigger: { schedule: '0 * * * *', timeZone: 'UTC' } });
  // The first look counts from creation: every hour since then was missed, more than a hundred.
  let runs = await at('hourly', `${YEAR}-03-01T10:20:00Z`);
  assert.equal(runs.length, 1, 'one run for all the missed times');
  assert.equal((await world.schedule('hourly')).status?.lastCronTime, `${YEAR}-03-01T10:00:00Z`);
  assert.ok((await reasonsOfEvents('hourly')).includes('TooManyMissedTimes'));
  await finishRuns('hourly');

  runs = await at('hourly', `${YEAR}-03-01T10:50:00Z`);
  assert.equal(runs.length, 1, 'no cron time since the last one');

  // The operator is down for five hours: five times missed, one run for the latest.
  runs = await at('hourly', `${YEAR}-03-01T15:10:00Z`);
  assert.equal(runs.length, 2);
  assert.equal((await world.schedule('hourly')).status?.lastCronTime, `${YEAR}-03-01T15:00:00Z`);
  assert.equal((await world.schedule('hourly')).status?.lastScheduleTime, `${YEAR}-03-01T15:00:00Z`);
  runs = await at('hourly', `${YEAR}-03-01T15:40:00Z`);
  assert.equal(runs.length, 2, 'a second look at the same time made a second run');
  await finishRuns('hourly');

  // With a ten-minute starting deadline, times missed by more than that are given up.
  await world.patchSchedule('hourly', { startingDeadlineSeconds: 600 });
  runs = await at('hourly', `${YEAR}-03-01T18:20:00Z`);
  assert.equal(runs.length, 2, 'a time past its starting deadline started a run');
  assert.equal((await world.schedule('hourly')).status?.lastCronTime, `${YEAR}-03-01T18:00:00Z`);
  assert.ok((await reasonsOfEvents('hourly')).includes('MissedSchedule'));
  runs = await at('hourly', `${YEAR}-03-01T19:05:00Z`);
  assert.equal(runs.length, 3, 'a time within its deadline did not start a run');
});

test('Forbid holds a cron time while a run is active; it runs once the run ends, within the deadline', async () => {
  await createCronSchedule('held', {
    trigger: { schedule: '0 * * * *', timeZone: 'UTC' },
    startingDeadlineSeconds: 1800,
  });
  let runs = await at('held', `${YEAR}-04-01T10:05:00Z`);
  assert.equal(runs.length, 1);
  runs = await at('held', `${YEAR}-04-01T11:05:00Z`);
  assert.equal(runs.length, 1, 'Forbid started a second run');
  assert.equal(
    (await world.schedule('held')).status?.lastCronTime,
    `${YEAR}-04-01T10:00:00Z`,
    'the held time was consumed',
  );
  assert.ok((await reasonsOfEvents('held')).includes('RunAlreadyActive'));
  await finishRuns('held');
  runs = await at('held', `${YEAR}-04-01T11:20:00Z`);
  assert.equal(runs.length, 2, 'the held time did not run once the active run ended');
  assert.equal((await world.schedule('held')).status?.lastCronTime, `${YEAR}-04-01T11:00:00Z`);
});

const fixedLocalTime = [
  {
    name: 'clocks go back (Europe/Berlin, last Sunday of October): 02:30 happens twice, the schedule fires once',
    schedule: 'fallback',
    // Reconciled every quarter hour through the night; 02:30 CEST is 00:30Z, 02:30 CET is 01:30Z.
    looks: quarterHours(`${YEAR}-10-30T23:00:00Z`, `${YEAR}-10-31T03:00:00Z`, 'last Sunday of October'),
    want: ['00:30'],
  },
  {
    name: 'clocks go forward (Europe/Berlin, last Sunday of March): 02:30 does not exist, the schedule fires once, after the gap',
    schedule: 'springforward',
    looks: quarterHours(`${YEAR}-03-27T23:00:00Z`, `${YEAR}-03-28T03:00:00Z`, 'last Sunday of March'),
    want: ['01:30'],
  },
];

/** Quarter-hour instants across the night of the zone's change (the dates are moved onto it). */
function quarterHours(from: string, to: string, which: string): string[] {
  const month = which.includes('October') ? 9 : 2;
  const lastSunday = new Date(Date.UTC(YEAR, month + 1, 0));
  lastSunday.setUTCDate(lastSunday.getUTCDate() - lastSunday.getUTCDay());
  const shift = lastSunday.getTime() - Date.parse(`${to.slice(0, 10)}T00:00:00Z`);
  const looks: string[] = [];
  for (let t = Date.parse(from) + shift; t <= Date.parse(to) + shift; t += 15 * 60_000) {
    looks.push(new Date(t).toISOString().replace('.000Z', 'Z'));
  }
  return looks;
}

for (const { name, schedule, looks, want } of fixedLocalTime) {
  test(`DST: ${name}`, async () => {
    // A deadline of ten minutes: the times before the night are given up, not run.
    await createCronSchedule(schedule, {
      trigger: { schedule: '30 2 * * *', timeZone: 'Europe/Berlin' },
      startingDeadlineSeconds: 600,
      concurrencyPolicy: 'Allow',
    });
    const fired: string[] = [];
    let known = 0;
    for (const look of looks) {
      const runs = await at(schedule, look);
      if (runs.length > known) fired.push(look.slice(11, 16));
      known = runs.length;
      await finishRuns(schedule);
    }
    assert.deepEqual(fired, want);
  });
}
