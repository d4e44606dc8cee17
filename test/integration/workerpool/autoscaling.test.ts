// A pool scaled on its queue's depth, end to end against the stack: the operator of this
// checkout, the real broker and its management API, worker pods run by a local pod runner.
// One pool goes through its life: asleep on a queue that does not exist yet, a backlog
// (decided within one poll interval plus the broker's statistics interval), the drain, zero
// workers after the cooldown, and a wake-up on the next message.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { metricValue } from '../../../devtools/operatorProcess.ts';
import { stackEnv } from '../../../devtools/stackEnv.ts';
import { kubectlOk } from '../../support/crds.ts';
import { pollUntil } from '../../support/kube.ts';
import { uniqueName } from '../../support/names.ts';
import { FlakyRpc } from '../worker/flakyRpc.ts';
import { PoolWorld } from './poolWorld.ts';

const POLL_SECONDS = 5;
/**
 * The stack's RabbitMQ statistics interval (stack/components/services.sh), the allowance on top
 * of the poll. The pool sees a backlog by passive declare at once; the management API, which
 * showed a publish in /api/queues 2.4 to 3.9 s late on the stack, is read for unacked only.
 */
const STATS_INTERVAL_MS = 1_000;
/** Room for the reconcile itself and the Deployment write on a busy 2-core machine. */
const SLACK_MS = 3_000;
const COOLDOWN_SECONDS = 8;

let world: PoolWorld;
let slowRpc: FlakyRpc;
const runUid = uniqueName('uid');
let starts: number[] = [];

before(async () => {
  slowRpc = await FlakyRpc.start(stackEnv().ETH_RPC_URL);
  slowRpc.failing = false;
  slowRpc.delayMs = 400;
  world = await PoolWorld.create({ podRunner: true, workerRpcUrl: slowRpc.url });
  starts = await world.batchStarts(7);
  await world.createPool('lane', {
    minReplicas: 0,
    maxReplicas: 4,
    autoscaling: {
      targetMessagesPerReplica: 2,
      cooldownSeconds: COOLDOWN_SECONDS,
      pollIntervalSeconds: POLL_SECONDS,
    },
    podTemplate: { terminationGracePeriodSeconds: 30 },
  });
});

after(async () => {
  await world?.cleanup();
  await slowRpc?.close();
});

test('asleep on a queue that does not exist yet: no workers and a clear condition', async () => {
  const pool = await pollUntil(
    'the pool to report its missing queue',
    async () => {
      const seen = await world.pool('lane');
      return seen.status?.conditions?.some((c) => c.type === 'QueuesFound' && c.status === 'False')
        ? seen
        : undefined;
    },
    { timeoutMs: 20_000, describe: () => world.describe('lane') },
  );
  const condition = pool.status!.conditions!.find((c) => c.type === 'QueuesFound')!;
  assert.equal(condition.reason, 'QueueNotFound');
  assert.match(condition.message, new RegExp(`queue ${world.queue()} does not exist on the broker`));
  assert.deepEqual(pool.status?.queues, [world.queue()]);
  assert.equal(pool.status?.desiredReplicas, 0);
  assert.deepEqual(pool.status?.queueDepth, { ready: 0, unacked: 0, total: 0 });
  const deployment = await world.waitForDecision('lane', 0, 10_000);
  assert.equal(deployment.metadata?.ownerReferences?.[0]?.kind, 'WorkerPool');
  assert.equal((await world.waitForEvent('lane', 'QueueNotFound')).type, 'Warning');

  // Declared (as the first ModelRun sending to it would), the condition clears. The backlog below
  // lands at once, on a queue the management API may not list yet (its first figures take ~5 s):
  // the passive declares see it all the same.
  await world.declare(world.queue());
  await pollUntil(
    'the pool to find its queue',
    async () =>
      (await world.pool('lane')).status?.conditions?.some(
        (c) => c.type === 'QueuesFound' && c.status === 'True',
      ),
    { timeoutMs: 20_000, describe: () => world.describe('lane') },
  );
});

test('a backlog: the pool decides ceil(depth / target) within one poll interval plus the statistics interval', async () => {
  const batches = starts.slice(0, 6).map((start) => world.batch(start, runUid));
  await world.publish(world.queue(), batches);
  // 6 messages at 2 per worker: 3 workers.
  await world.waitForDecision('lane', 3, POLL_SECONDS * 1000 + STATS_INTERVAL_MS + SLACK_MS);
  const pool = await pollUntil(
    'status to show the decision',
    async () => {
      const seen = await world.pool('lane');
      return seen.status?.desiredReplicas === 3 && seen.status.lastScaleReason ? seen : undefined;
    },
    { timeoutMs: 10_000, describe: () => world.describe('lane') },
  );
  assert.equal(pool.status?.lastScaleReason, 'Activated');
  assert.match(
    pool.status?.lastScaleMessage ?? '',
    /^0 → 3 workers: 6 messages \(\d+ ready, \d+ unacknowledged\) at 2 per worker$/,
  );
  assert.ok(pool.spec.replicas === undefined || pool.spec.replicas === 1, 'the pool’s spec is never written');
  assert.equal((await world.waitForEvent('lane', 'Activated', /0 → 3 workers/)).type, 'Normal');
});

test('it drains: every batch once, then zero workers after the cooldown', async () => {
  await pollUntil(
    'the 6 batches to succeed',
    async () => (await world.readProgress(runUid)).succeeded === 6,
    {
      timeoutMs: 90_000,
      intervalMs: 250,
      describe: () => world.describe('lane'),
    },
  );
  await world.waitForDecision('lane', 0, (COOLDOWN_SECONDS + POLL_SECONDS) * 1000 + 20_000);
  const pool = await pollUntil(
    'the pool to report zero workers',
    async () => {
      const seen = await world.pool('lane');
      return seen.status?.desiredReplicas === 0 && seen.status.replicas === 0 && seen.status.lastScaleReason
        ? seen
        : undefined;
    },
    { timeoutMs: 45_000, describe: () => world.describe('lane') },
  );
  assert.equal(pool.status?.lastScaleReason, 'ScaledToZero');
  assert.equal(pool.status?.conditions?.find((c) => c.type === 'Ready')?.reason, 'NoWorkersWanted');
  const started = (await world.workerLines()).filter((line) => line.msg === 'batch started');
  assert.equal(started.length, 6, 'each batch started once');
  assert.equal(new Set(started.map((line) => line.batchId)).size, 6);
});

test('it wakes on the next message', async () => {
  // Workers of the scale-down still shutting down would take the message themselves.
  await pollUntil('the old workers to be gone', async () => (await world.pods('lane')).length === 0, {
    timeoutMs: 60_000,
    describe: () => world.describe('lane'),
  });
  await world.publish(world.queue(), [world.batch(starts[6]!, runUid)]);
  await world.waitForDecision('lane', 1, POLL_SECONDS * 1000 + STATS_INTERVAL_MS + SLACK_MS);
  await pollUntil('the batch to succeed', async () => (await world.readProgress(runUid)).succeeded === 7, {
    timeoutMs: 60_000,
    intervalMs: 250,
    describe: () => world.describe('lane'),
  });
  const pool = await pollUntil(
    'the pool to report the wake-up',
    async () => {
      const seen = await world.pool('lane');
      return seen.status?.lastScaleReason ? seen : undefined;
    },
    { timeoutMs: 10_000, describe: () => world.describe('lane') },
  );
  assert.equal(pool.status?.lastScaleReason, 'Activated', await world.describe('lane'));
});

test('kubectl get workerpools shows queues, depth and replicas; metrics count decisions on one connection', async () => {
  // Read until this checkout's columns show (another checkout may have installed its CRD a moment ago).
  const table = await pollUntil(
    'the wide table with every column',
    async () => {
      const text = await kubectlOk(['get', 'workerpools', '-o', 'wide'], { namespace: world.namespace });
      return /REASON/.test(text) && /Activated/.test(text) ? text : undefined;
    },
    { timeoutMs: 20_000, intervalMs: 500 },
  );
  const [header, row] = table.trim().split('\n');
  assert.match(
    header!,
    /^NAME\s+QUEUES\s+DESIRED\s+READY\s+STARTING\s+DEPTH\s+AGE\s+REPLICAS\s+MIN\s+MAX\s+CONSUMERS\s+UNACKED\s+LAST SCALE\s+REASON$/,
  );
  assert.match(row!, new RegExp(`^lane\\s+\\["${world.queue()}"\\]\\s+\\d+\\s+\\d+\\s+\\d+\\s+\\d+\\s`));
  assert.match(row!, /Activated$/);

  const metrics = await world.operator.scrape();
  const labels = { namespace: world.namespace, workerpool: 'lane' };
  assert.equal(
    metricValue(metrics, 'model_runner_operator_workerpool_scale_decisions_total', {
      ...labels,
      reason: 'Activated',
    }),
    2,
  );
  assert.equal(
    metricValue(metrics, 'model_runner_operator_workerpool_scale_decisions_total', {
      ...labels,
      reason: 'ScaledToZero',
    }),
    1,
  );
  assert.notEqual(
    metricValue(metrics, 'model_runner_operator_workerpool_queue_messages', { ...labels, state: 'ready' }),
    undefined,
  );
  assert.equal(metricValue(metrics, 'model_runner_operator_rabbitmq_management_connections_opened_total'), 1);
});
