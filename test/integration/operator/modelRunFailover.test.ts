// Nothing lost, nothing made twice, whatever dies: the operator killed mid-dispatch and
// mid-run, the leader killed with a second operator standing by, a worker killed mid-batch, a
// run deleted mid-way (its queued batches are dropped by the workers; a Job run's Job goes).
// "Made twice" is checked where it would show: more than one marker row for a data path (a
// batch committed twice) or a Kafka key sent twice.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createServerClient } from '../../../adapters/clickhouse/clickhouseClient.ts';
import { ClickHouseMarkerStore } from '../../../adapters/clickhouse/markerStore.ts';
import IORedis from 'ioredis';
import { RunProgressStore } from '../../../adapters/redis/progress.ts';
import { AnvilSession } from '../../../devtools/anvil/erc20Scenario.ts';
import { stackEnv } from '../../../devtools/stackEnv.ts';
import { INGESTION_ROOT_PATHS } from '../../../dataplane/paths.ts';
import { FlakyRpc } from '../worker/flakyRpc.ts';
import { readAllRecords } from '../worker/support.ts';
import {
  findOrUndefined,
  isProcessAlive,
  kubeClients,
  pidOfContainer,
  pollUntil,
} from '../../support/kube.ts';
import { OperatorWorld } from '../../support/operatorWorld.ts';
import { queueStats } from '../../support/rabbitManagement.ts';

const FINAL = ['Succeeded', 'Failed', 'Expired'];
let firstBatch: number;

function blocksOf(first: number, count: number): { start: number; end: number } {
  return { start: first, end: first + count * 100 - 1 };
}

/** Data paths with more than one marker row in the world's database: batches committed twice. */
async function committedTwice(world: OperatorWorld): Promise<unknown[]> {
  const client = createServerClient(stackEnv().CLICKHOUSE_URL);
  try {
    const result = await client.query({
      query: `SELECT data_path, count() AS n FROM ${world.database}.blockbatch_markers GROUP BY data_path HAVING n > 1`,
      format: 'JSONEachRow',
    });
    return await result.json();
  } finally {
    await client.close();
  }
}

async function keysSentTwice(world: OperatorWorld): Promise<string[]> {
  const records = await readAllRecords(`${world.sinkEnv}-local-sink`, stackEnv().KAFKA_BROKERS.split(','));
  const seen = new Set<string>();
  return records.map((record) => record.key).filter((key) => (seen.has(key) ? true : (seen.add(key), false)));
}

before(async () => {
  const anvil = await new AnvilSession(stackEnv().ETH_RPC_URL).init();
  // Every range below (the job run's reaches firstBatch + 3,000) is mined before it starts: a
  // Job is only created once all its batches are behind the tip.
  if ((await anvil.blockNumber()) < 3_300) await anvil.mine(3_300);
  firstBatch = Math.floor(((await anvil.blockNumber()) - 3_100) / 100) * 100;
});

describe('operators die', () => {
  let world: OperatorWorld;
  let slowRpc: FlakyRpc;
  let progress: RunProgressStore;
  let redis: IORedis.Redis;

  before(async () => {
    // Batches take a while (a slow node), so an operator dies with batches out.
    slowRpc = await FlakyRpc.start(stackEnv().ETH_RPC_URL);
    slowRpc.failing = false;
    slowRpc.delayMs = 150;
    world = await OperatorWorld.create('failover', { config: { maxInFlightPerRun: 2 } });
    await world.applyWorkers('workers', ['local_backfill_nonreads'], 2, { ETH_RPC_URL: slowRpc.url });
    redis = new IORedis.Redis(stackEnv().REDIS_URL);
    progress = new RunProgressStore(redis, { prefix: world.redisPrefix });
  });

  after(async () => {
    redis?.disconnect();
    await world?.cleanup();
    await slowRpc?.close();
  });

  it('killed mid-dispatch and again mid-run, the operator loses no batch and makes none twice', async () => {
    await world.startOperator();
    await world.leader();
    await world.applyRun({
      metadata: { name: 'crashes' },
      spec: { model: 'ingest', chain: 'local', blocks: blocksOf(firstBatch, 8) },
    });
    const uid = await pollUntil(
      'the run to have a uid',
      async () => (await world.getRun('crashes'))?.metadata?.uid,
    );
    await pollUntil('a first dispatch', async () => (await progress.readDispatched(uid)).size > 0, {
      timeoutMs: 60_000,
    });
    await world.operators[0]!.kill();
    await world.startOperator();
    await pollUntil(
      'half the batches done',
      async () => {
        const done = await progress.readOutcomes(uid);
        return done.size >= 4;
      },
      { timeoutMs: 120_000 },
    );
    await world.operators[1]!.kill();
    await world.startOperator();
    const run = await world.waitForPhase('crashes', FINAL, 180_000);
    assert.equal(run.status?.phase, 'Succeeded');
    assert.equal(run.status?.progress, '8/8');
    assert.deepEqual(await committedTwice(world), []);
    assert.deepEqual(await keysSentTwice(world), []);
  });

  it('the leader killed, the standby takes over within the lease duration and finishes the run', async () => {
    for (const operator of world.operators) await operator.stop();
    await world.startOperator('first');
    assert.equal(await world.leader(), 'first');
    const standby = await world.startOperator('standby');
    const leaderName = 'first';
    await world.applyRun({
      metadata: { name: 'failover' },
      spec: { model: 'ingest', chain: 'local', blocks: blocksOf(firstBatch + 800, 6) },
    });
    const uid = await pollUntil(
      'the run to have a uid',
      async () => (await world.getRun('failover'))?.metadata?.uid,
    );
    await pollUntil('a first batch done', async () => (await progress.readOutcomes(uid)).size > 0, {
      timeoutMs: 60_000,
    });
    const killedAt = Date.now();
    await world.operators.find((operator) => operator.identity === leaderName)!.kill();
    await pollUntil('the standby to lead', async () => (await world.leader()) === 'standby', {
      timeoutMs: 40_000,
      intervalMs: 250,
    });
    const takeoverSeconds = (Date.now() - killedAt) / 1000;
    assert.ok(takeoverSeconds < 15 + 2 * 2 + 5, `took over in ${takeoverSeconds}s (lease 15 s, retry 2 s)`);
    const run = await world.waitForPhase('failover', FINAL, 180_000);
    assert.equal(run.status?.phase, 'Succeeded');
    assert.equal(run.status?.progress, '6/6');
    assert.ok(isProcessAlive(standby.pid));
    assert.deepEqual(await committedTwice(world), []);
    assert.deepEqual(await keysSentTwice(world), []);
  });

  it('a worker killed mid-batch: the batch is redone by a worker, committed once', async () => {
    await world.applyRun({
      metadata: { name: 'worker-dies' },
      spec: { model: 'ingest', chain: 'local', blocks: blocksOf(firstBatch + 1400, 4) },
    });
    const pods = await pollUntil(
      'a worker with a batch in flight',
      async () => {
        const requestsBefore = slowRpc.forwardedRequests;
        await new Promise((resolve) => setTimeout(resolve, 200));
        if (slowRpc.forwardedRequests === requestsBefore) return undefined;
        const list = await kubeClients().core.listNamespacedPod({
          namespace: world.namespace,
          labelSelector: 'modelrunner.io/test-workers=workers',
        });
        return list.items.filter((pod) => pod.status?.phase === 'Running');
      },
      { timeoutMs: 60_000 },
    );
    // Both workers are busy with the run's first two batches (maxInFlight 2): kill one of them.
    const victim = pidOfContainer(pods[0]!.status?.containerStatuses?.[0]?.containerID);
    process.kill(victim, 'SIGKILL');
    const run = await world.waitForPhase('worker-dies', FINAL, 180_000);
    assert.equal(run.status?.phase, 'Succeeded');
    assert.equal(run.status?.progress, '4/4');
    assert.deepEqual(await committedTwice(world), []);
  });
});

describe('runs deleted mid-way', () => {
  let world: OperatorWorld;

  before(async () => {
    world = await OperatorWorld.create('deleted', { config: { maxInFlightPerRun: 3 } });
    await world.startOperator();
    await world.leader();
  });

  after(async () => {
    await world?.cleanup();
  });

  it('queue: the batches it sent are dropped by the workers, nothing is written for them', async () => {
    await world.applyRun({
      metadata: { name: 'doomed' },
      spec: { model: 'ingest', chain: 'local', blocks: blocksOf(firstBatch, 6) },
    });
    await pollUntil('three batches waiting on the queue', async () => {
      const run = await world.getRun('doomed');
      return run?.status?.batches?.queued === 3;
    });
    await kubeClients().customObjects.deleteNamespacedCustomObject({
      group: 'modelrunner.io',
      version: 'v1alpha1',
      namespace: world.namespace,
      plural: 'modelruns',
      name: 'doomed',
    });
    await pollUntil(
      'the run to be gone (its finalizer done)',
      async () => (await world.getRun('doomed')) === undefined,
    );
    // Workers start only now: the three messages wait for them.
    await world.applyWorkers('late-workers', ['local_backfill_nonreads'], 1);
    const markers = new ClickHouseMarkerStore({
      client: createServerClient(stackEnv().CLICKHOUSE_URL),
      ownsClient: true,
      database: world.database,
    });
    try {
      await pollUntil(
        'the queue to be drained',
        async () => {
          const queue = await queueStats(world.vhost, 'local_backfill_nonreads');
          return queue.messages === 0;
        },
        { timeoutMs: 60_000 },
      );
      await markers.ensureTable();
      for (let i = 0; i < 3; i++) {
        assert.equal(
          await markers.isBatchComplete('local', INGESTION_ROOT_PATHS.blocks, firstBatch + i * 100),
          false,
        );
      }
    } finally {
      await markers.close();
    }
  });

  it('job: its Job and pods go with it', async () => {
    await world.applyRun({
      metadata: { name: 'doomed-job' },
      spec: {
        model: 'ingest',
        chain: 'local',
        blocks: blocksOf(firstBatch + 1000, 20),
        executor: 'job',
        job: { parallelism: 1 },
      },
    });
    const jobName = await pollUntil(
      'its Job',
      async () => (await world.getRun('doomed-job'))?.status?.jobName,
    );
    await pollUntil('the Job to exist', async () =>
      findOrUndefined(() =>
        kubeClients().batch.readNamespacedJob({ namespace: world.namespace, name: jobName }),
      ),
    );
    await kubeClients().customObjects.deleteNamespacedCustomObject({
      group: 'modelrunner.io',
      version: 'v1alpha1',
      namespace: world.namespace,
      plural: 'modelruns',
      name: 'doomed-job',
    });
    await pollUntil(
      'the Job to be collected',
      async () =>
        (await findOrUndefined(() =>
          kubeClients().batch.readNamespacedJob({ namespace: world.namespace, name: jobName }),
        )) === undefined,
      { timeoutMs: 60_000 },
    );
    await pollUntil(
      'its pods to be gone',
      async () => {
        const pods = await kubeClients().core.listNamespacedPod({
          namespace: world.namespace,
          labelSelector: `job-name=${jobName}`,
        });
        return pods.items.length === 0;
      },
      { timeoutMs: 60_000 },
    );
  });
});
