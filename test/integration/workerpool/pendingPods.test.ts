// Pods that never get scheduled, bounds, missing queues and the broker connections of the
// operator. No pod runner serves these pools, so every worker pod stays Pending: the autoscaler
// must count them as capacity (KEDA's ScaledJob kept adding Jobs while pods were Pending).
// Six pools poll every second, so well over 100 polls go by while the test watches the
// operator's connections to the broker: one AMQP connection (which also carries every pool's
// passive queue declares) and one management API connection, the same ones from start to end
// (KEDA's scaler leaked a connection per poll).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { metricValue } from '../../../devtools/operatorProcess.ts';
import { stackEnv } from '../../../devtools/stackEnv.ts';
import { kubeClients, pollUntil } from '../../support/kube.ts';
import { uniqueName } from '../../support/names.ts';
import { management } from '../worker/support.ts';
import { PoolWorld } from './poolWorld.ts';

const SPARE_POOLS = 5;
let world: PoolWorld;

before(async () => {
  world = await PoolWorld.create({ podRunner: false });
  await world.declare(world.queue());
  await world.createPool('stuck', {
    minReplicas: 1,
    maxReplicas: 3,
    autoscaling: { targetMessagesPerReplica: 1, cooldownSeconds: 3, pollIntervalSeconds: 1 },
  });
  for (let index = 0; index < SPARE_POOLS; index += 1) {
    await world.createPool(`spare-${index}`, {
      queues: { names: [world.queue('realtime', index % 2 === 0 ? 'reads' : 'nonreads')] },
      minReplicas: 0,
      autoscaling: { pollIntervalSeconds: 1 },
    });
  }
});

after(async () => {
  await world?.cleanup();
});

interface BrokerConnection {
  name: string;
  user_provided_name?: string;
  channels?: number;
}

/** The operator's AMQP connections as the broker lists them (its name is model-runner-operator/<identity>). */
async function operatorConnections(): Promise<BrokerConnection[]> {
  const response = await management('GET', 'api/connections?columns=name,user_provided_name,channels');
  const connections = (await response.json()) as BrokerConnection[];
  return connections
    .filter(
      (connection) => connection.user_provided_name === `model-runner-operator/${world.operator.identity}`,
    )
    .sort((a, b) => a.name.localeCompare(b.name));
}

const namesOf = (connections: readonly BrokerConnection[]) =>
  connections.map((connection) => connection.name);

/** Established TCP connections from process `pid` to `port` on this host (from /proc). */
function establishedConnections(pid: number, port: number): number {
  const inodes = new Set(
    readdirSync(`/proc/${pid}/fd`)
      .map((fd) => {
        try {
          return readlinkSync(`/proc/${pid}/fd/${fd}`);
        } catch {
          return '';
        }
      })
      .filter((link) => link.startsWith('socket:['))
      .map((link) => link.slice('socket:['.length, -1)),
  );
  let count = 0;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10) continue;
      const remotePort = parseInt(fields[2]!.split(':')[1]!, 16);
      if (remotePort === port && fields[3] === '01' && inodes.has(fields[9]!)) count += 1;
    }
  }
  return count;
}

test('pods stuck Pending count as capacity: no extra replicas, and maxReplicas holds', async () => {
  const runUid = uniqueName('uid');
  const starts = await world.batchStarts(10);
  await world.publish(
    world.queue(),
    starts.map((start) => world.batch(start, runUid)),
  );
  // 10 messages at 1 per worker is 10 workers; maxReplicas is 3.
  await world.waitForDecision('stuck', 3, 30_000);
  const limited = await pollUntil(
    'the pool to report 3 starting workers',
    async () => {
      const pool = await world.pool('stuck');
      return pool.status?.startingReplicas === 3 ? pool : undefined;
    },
    { timeoutMs: 30_000, describe: () => world.describe('stuck') },
  );
  const conditions = Object.fromEntries(limited.status!.conditions!.map((c) => [c.type, c]));
  assert.equal(conditions.ScalingLimited?.reason, 'TooManyReplicas');
  assert.equal(conditions.Ready?.status, 'False');
  assert.match(conditions.Ready!.message, /0 of 3 workers ready, 3 starting \(3 Unscheduled\)/);

  // Many polls later the Pending pods are still the capacity: still 3, no more pods.
  const reconciles = await world.reconciles();
  await pollUntil('20 more polls', async () => (await world.reconciles()) >= reconciles + 20, {
    timeoutMs: 60_000,
    intervalMs: 500,
  });
  assert.equal((await world.deployment('stuck'))?.spec?.replicas, 3);
  const pods = await world.pods('stuck');
  assert.equal(pods.length, 3);
  assert.ok(pods.every((pod) => pod.status?.phase === 'Pending'));
});

test('drained, the pool scales down to minReplicas, not below', async () => {
  await world.connection.withChannel((channel) => channel.purgeQueue(world.queue()));
  await world.waitForDecision('stuck', 1, 30_000);
  const pool = await pollUntil(
    'the pool to report the scale-down',
    async () => {
      const seen = await world.pool('stuck');
      return seen.status?.desiredReplicas === 1 && seen.status.lastScaleReason ? seen : undefined;
    },
    { timeoutMs: 20_000, describe: () => world.describe('stuck') },
  );
  assert.equal(pool.status?.lastScaleReason, 'ScaledDown');
  assert.equal(pool.status?.conditions?.find((c) => c.type === 'ScalingLimited')?.reason, 'TooFewReplicas');
  await pollUntil(
    'one pod left',
    async () => (await world.pods('stuck')).filter((pod) => !pod.metadata?.deletionTimestamp).length === 1,
    {
      timeoutMs: 30_000,
      describe: () => world.describe('stuck'),
    },
  );
});

test('queues that do not exist get a clear condition, pool by pool', async () => {
  for (let index = 0; index < SPARE_POOLS; index += 1) {
    const pool = await pollUntil(
      `spare-${index} to report its queue missing`,
      async () => {
        const seen = await world.pool(`spare-${index}`);
        return seen.status?.conditions?.some((c) => c.type === 'QueuesFound') ? seen : undefined;
      },
      { timeoutMs: 20_000, describe: () => world.describe(`spare-${index}`) },
    );
    const condition = pool.status!.conditions!.find((c) => c.type === 'QueuesFound')!;
    assert.deepEqual([condition.status, condition.reason], ['False', 'QueueNotFound']);
    assert.equal(pool.status?.desiredReplicas, 0);
  }
});

test('a Deployment of the same name that the pool does not own is left alone, and the pool says so', async () => {
  await kubeClients().apps.createNamespacedDeployment({
    namespace: world.namespace,
    body: {
      metadata: { name: 'taken' },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: 'someone-else' } },
        template: {
          metadata: { labels: { app: 'someone-else' } },
          spec: { containers: [{ name: 'app', image: 'busybox:1.36' }] },
        },
      },
    },
  });
  await world.createPool('taken', { minReplicas: 0, autoscaling: { pollIntervalSeconds: 1 } });
  const pool = await pollUntil(
    'the pool to report the name taken',
    async () => {
      const seen = await world.pool('taken');
      return seen.status?.conditions?.some((c) => c.reason === 'DeploymentNameTaken') ? seen : undefined;
    },
    { timeoutMs: 20_000, describe: () => world.describe('taken') },
  );
  assert.equal(pool.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'False');
  const foreign = await world.deployment('taken');
  assert.equal(foreign?.metadata?.ownerReferences, undefined);
  assert.deepEqual(foreign?.spec?.selector?.matchLabels, { app: 'someone-else' });
  assert.equal((await world.waitForEvent('taken', 'DeploymentNameTaken')).type, 'Warning');
});

test('over 100 polls the operator keeps one AMQP connection and one management API connection', async () => {
  const managementPort = Number(new URL(stackEnv().RABBITMQ_MANAGEMENT_URL).port);
  const amqpPort = Number(new URL(stackEnv().RABBITMQ_URL).port || 5672);
  const pid = world.operator.child.pid!;
  const before = namesOf(await operatorConnections());
  assert.equal(before.length, 1, 'one AMQP connection');
  const reconcilesBefore = await world.reconciles();
  const requestsBefore =
    metricValue(await world.operator.scrape(), 'model_runner_operator_rabbitmq_management_requests_total', {
      result: 'ok',
    }) ?? 0;
  // Every poll declares its pool's queues passively over the AMQP connection: five of the six
  // queues do not exist, so the broker closes the declaring channel on almost every poll.
  const seenSockets = { management: new Set<number>(), amqp: new Set<number>() };
  await pollUntil(
    '100 polls',
    async () => {
      seenSockets.management.add(establishedConnections(pid, managementPort));
      seenSockets.amqp.add(establishedConnections(pid, amqpPort));
      return (await world.reconciles()) >= reconcilesBefore + 100;
    },
    { timeoutMs: 90_000, intervalMs: 250 },
  );
  const afterPolls = await operatorConnections();
  assert.deepEqual(namesOf(afterPolls), before, 'the same AMQP connection');
  assert.deepEqual([...seenSockets.amqp], [1], 'always one socket to the AMQP port');
  // One channel for the declares (reopened after each missing queue), none left behind.
  assert.ok((afterPolls[0]?.channels ?? 0) <= 3, `channels of the connection: ${afterPolls[0]?.channels}`);
  const metrics = await world.operator.scrape();
  assert.equal(metricValue(metrics, 'model_runner_operator_rabbitmq_management_connections_opened_total'), 1);
  assert.deepEqual(
    [...seenSockets.management].filter((count) => count > 1),
    [],
    'never more than one socket to the management API',
  );
  const requests =
    (metricValue(metrics, 'model_runner_operator_rabbitmq_management_requests_total', { result: 'ok' }) ??
      0) - requestsBefore;
  assert.ok(requests < 100, `polls share readings: ${requests} requests for 100 polls`);
});
