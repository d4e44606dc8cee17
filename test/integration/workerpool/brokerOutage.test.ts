// RabbitMQ going away mid-way and coming back, as a restart looks to its clients: the operator
// and the workers reach the broker (AMQP and the management API) through loopback proxies that
// the test closes, cutting every connection, and reopens. The stack's broker keeps running for
// everyone else. While it is away the pool holds its workers (no decision on missing data) and
// says why; once it is back the backlog is finished and the pool scales to zero. With only the
// AMQP side away (the passive queue declares), the pool decides on the management API's figures.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { stackEnv } from '../../../devtools/stackEnv.ts';
import { pollUntil } from '../../support/kube.ts';
import { uniqueName } from '../../support/names.ts';
import { FlakyRpc } from '../worker/flakyRpc.ts';
import { TcpProxy } from '../worker/tcpProxy.ts';
import { PoolWorld } from './poolWorld.ts';

let world: PoolWorld;
let slowRpc: FlakyRpc;
let amqpProxy: TcpProxy;
let managementProxy: TcpProxy;
const runUid = uniqueName('uid');

/** `url` with its host and port replaced by the proxy's (credentials kept). */
function through(proxy: TcpProxy, url: string): string {
  const routed = new URL(url);
  routed.hostname = '127.0.0.1';
  routed.port = String(proxy.port);
  return routed.toString().replace(/\/$/, '');
}

function addressOf(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port) };
}

before(async () => {
  const env = stackEnv();
  slowRpc = await FlakyRpc.start(env.ETH_RPC_URL);
  slowRpc.failing = false;
  slowRpc.delayMs = 1_000;
  amqpProxy = await TcpProxy.create(addressOf(env.RABBITMQ_URL), true);
  managementProxy = await TcpProxy.create(addressOf(env.RABBITMQ_MANAGEMENT_URL), true);
  world = await PoolWorld.create({
    podRunner: true,
    workerRpcUrl: slowRpc.url,
    workerRabbitmqUrl: through(amqpProxy, env.RABBITMQ_URL),
    operatorRabbitmqUrl: through(amqpProxy, env.RABBITMQ_URL),
    operatorManagementUrl: through(managementProxy, env.RABBITMQ_MANAGEMENT_URL),
  });
  await world.declare(world.queue());
  await world.createPool('steady', {
    minReplicas: 0,
    maxReplicas: 3,
    autoscaling: { targetMessagesPerReplica: 2, cooldownSeconds: 5, pollIntervalSeconds: 1 },
    podTemplate: { terminationGracePeriodSeconds: 30 },
  });
});

after(async () => {
  await world?.cleanup();
  await amqpProxy?.close();
  await managementProxy?.close();
  await slowRpc?.close();
});

test('the broker goes away mid-backlog and comes back: workers held, backlog finished, then zero', async () => {
  const starts = await world.batchStarts(6);
  await world.publish(
    world.queue(),
    starts.map((start) => world.batch(start, runUid)),
  );
  await world.waitForDecision('steady', 3, 30_000);
  await pollUntil(
    'a batch to be under way',
    async () => (await world.workerLines()).some((line) => line.msg === 'batch started'),
    { timeoutMs: 60_000, intervalMs: 200, describe: () => world.describe('steady') },
  );

  await amqpProxy.close();
  await managementProxy.close();
  const away = await pollUntil(
    'the pool to say it cannot read the depth',
    async () => {
      const pool = await world.pool('steady');
      const active = pool.status?.conditions?.find((c) => c.type === 'ScalingActive');
      return active?.reason === 'DepthUnavailable' ? pool : undefined;
    },
    { timeoutMs: 20_000, describe: () => world.describe('steady') },
  );
  assert.equal(away.status?.desiredReplicas, 3, 'no decision on missing data');
  // Several polls with the broker away: still 3 workers.
  await new Promise((resolve) => setTimeout(resolve, 5_000));
  assert.equal((await world.deployment('steady'))?.spec?.replicas, 3);
  assert.equal((await world.waitForEvent('steady', 'DepthUnavailable')).type, 'Warning');

  await amqpProxy.open();
  await managementProxy.open();
  await pollUntil(
    'every batch to be done',
    async () => {
      const outcomes = await world.progress.readOutcomes(runUid);
      return outcomes.size === 6 && [...outcomes.values()].every((o) => o === 'succeeded' || o === 'skipped');
    },
    { timeoutMs: 120_000, intervalMs: 500, describe: () => world.describe('steady') },
  );
  await world.waitForDecision('steady', 0, 60_000);
  const pool = await world.pool('steady');
  assert.equal(pool.status?.conditions?.find((c) => c.type === 'ScalingActive')?.reason, 'DepthRead');
  assert.ok(world.operator.running, 'the operator survived');
});

const FALLBACK_LOG =
  "cannot declare the pools' queues passively; the management API's figures alone (seconds late)";
const RECOVERED_LOG = 'passive queue declares work again: ready messages are read as they are';

function operatorLogCount(message: string): number {
  return world.operator.lines().filter((line) => line.msg === message).length;
}

/** Whether the passive declares work, by the operator's last word about them (none: they always did). */
function declaresWork(): boolean {
  const said = world.operator
    .lines()
    .filter((line) => line.msg === FALLBACK_LOG || line.msg === RECOVERED_LOG);
  return said.length === 0 || said.at(-1)?.msg === RECOVERED_LOG;
}

test("only AMQP goes away: the pool decides on the management API's figures, and logs that once", async () => {
  // The outage above ended with a reconnect, which may still be under way.
  await pollUntil('the passive declares to work', async () => declaresWork(), {
    timeoutMs: 60_000,
    intervalMs: 250,
  });
  const fallbacksBefore = operatorLogCount(FALLBACK_LOG);
  const recoveriesBefore = operatorLogCount(RECOVERED_LOG);
  await amqpProxy.close();
  const polledBefore = await world.reconciles();
  const laterRun = uniqueName('uid');
  const starts = await world.batchStarts(4);
  await world.publish(
    world.queue(),
    starts.map((start) => world.batch(start, laterRun)),
  );
  // 4 messages at 2 per worker, seen by the management API alone (the workers cannot take them).
  await world.waitForDecision('steady', 2, 30_000);
  await pollUntil('10 polls without AMQP', async () => (await world.reconciles()) >= polledBefore + 10, {
    timeoutMs: 60_000,
    intervalMs: 250,
  });
  const pool = await world.pool('steady');
  assert.equal(pool.status?.conditions?.find((c) => c.type === 'ScalingActive')?.reason, 'DepthRead');
  assert.equal(operatorLogCount(FALLBACK_LOG) - fallbacksBefore, 1, 'logged once, not per poll');

  await amqpProxy.open();
  await pollUntil('the passive declares to work again', async () => declaresWork(), {
    timeoutMs: 60_000,
    intervalMs: 250,
    describe: () => world.operator.logTail(20),
  });
  assert.equal(operatorLogCount(RECOVERED_LOG) - recoveriesBefore, 1);
  assert.equal(operatorLogCount(FALLBACK_LOG) - fallbacksBefore, 1);
});
