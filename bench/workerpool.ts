// `node bench/workerpool.ts` (part of `make bench`): the WorkerPool autoscaler on the local stack.
// Prints, never asserts:
// - the time from a backlog appearing (the last message confirmed by the broker) to the pool's
//   decision (the Deployment asks for the computed count) and to those workers being ready,
//   against the target "decided within one poll interval"; split into the wait for the pool's
//   next poll (the phase, 0 to one interval) and that poll to the decision (about 0 when that
//   poll saw the backlog, an interval more when it did not);
// - messages drained per worker per second for a trivial model (`ingest` of 10 mostly empty
//   anvil blocks per batch), with every worker up;
// - the broker connections the operator holds: AMQP connections (from the management API) and
//   connections opened to the management API, and its requests per pool poll.
//
// The operator of this checkout runs as a child process watching a namespace of its own; the
// workers run through the stack's local pod runner (so they run the stack's checkout of the
// worker). Everything it creates is removed at the end: namespace, queues, Redis keys,
// ClickHouse database, temp dir.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import IORedis from 'ioredis';
import pino from 'pino';
import { createServerClient } from '../adapters/clickhouse/clickhouseClient.ts';
import {
  CustomResourceClient,
  createKubeClients,
  customResourceType,
  findOrUndefined,
  loadKubeConfig,
} from '../adapters/kube/index.ts';
import { RabbitConnection } from '../adapters/rabbitmq/connection.ts';
import { RabbitPublisher } from '../adapters/rabbitmq/publisher.ts';
import { assertWorkQueueTopology, deleteWorkQueueTopology } from '../adapters/rabbitmq/topology.ts';
import { RunProgressStore } from '../adapters/redis/progress.ts';
import { batchIdOf } from '../contract/batchMessage.ts';
import { workQueueName } from '../contract/queues.ts';
import { POOL_LABEL } from '../controllers/planning/workerPoolDeployment.ts';
import type { WorkerPool } from '../crds/generated/types.ts';
import { WORKER_POOL, crdName } from '../crds/kinds.ts';
import { loadChains, requireChain } from '../dataplane/chains.ts';
import { AnvilSession } from '../devtools/anvil/erc20Scenario.ts';
import { OperatorProcess, metricValue } from '../devtools/operatorProcess.ts';
import { repoRoot, stackEnv } from '../devtools/stackEnv.ts';

const MESSAGES = 200;
const BATCH_SIZE = 10;
const TARGET_PER_WORKER = 10;
const MAX_WORKERS = 4;
const POLL_SECONDS = 5;
const DEADLINE_MS = 120_000;
const RETRY_DELAYS_MS = [1_000, 5_000];

const env = stackEnv();
const tag = randomBytes(4).toString('hex');
const chain = `bench_wp_${tag}`;
const rpcEnvVar = `RPC_BENCH_WP_${tag.toUpperCase()}`;
const namespace = `bench-wp-${tag}`;
const database = `bench_wp_${tag}`;
const redisPrefix = `bench-wp-${tag}:`;
const queue = workQueueName(chain, 'backfill', 'nonreads');
const runUid = `bench-wp-${tag}`;
const kube = createKubeClients(loadKubeConfig({ KUBECONFIG: env.KUBECONFIG }));
const pools = new CustomResourceClient<WorkerPool>(kube.customObjects, customResourceType(WORKER_POOL));
const quiet = pino({ level: 'silent' });

function log(message: string): void {
  console.log(`[bench workerpool ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

async function until<T>(what: string, check: () => Promise<T | undefined>, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + DEADLINE_MS;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** This checkout's WorkerPool CRD, unless the API server already has its status fields. */
async function ensureWorkerPoolCrd(): Promise<void> {
  const live = await findOrUndefined(() =>
    kube.objects.read({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: crdName(WORKER_POOL) },
    }),
  );
  if (live && JSON.stringify(live).includes('lastScaleReason')) return;
  const kubectlDir = join(homedir(), '.cache/model-runner/kube/v1.35.4/bin');
  const applied = spawnSync(
    'kubectl',
    [
      'apply',
      '--server-side',
      '--force-conflicts',
      '--field-manager=model-runner-crd-install',
      '--filename',
      join(repoRoot, 'crds/generated', `${crdName(WORKER_POOL)}.yaml`),
    ],
    {
      env: {
        ...process.env,
        KUBECONFIG: env.KUBECONFIG,
        PATH: `${kubectlDir}${delimiter}${process.env.PATH}`,
      },
    },
  );
  if (applied.status !== 0) throw new Error(`kubectl apply of the WorkerPool CRD failed: ${applied.stderr}`);
  await new Promise((resolve) => setTimeout(resolve, 2_000));
}

async function operatorAmqpConnections(identity: string): Promise<string[]> {
  const base = new URL(env.RABBITMQ_MANAGEMENT_URL);
  const authorization = `Basic ${Buffer.from(`${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`).toString('base64')}`;
  base.username = '';
  base.password = '';
  const response = await fetch(new URL('api/connections?columns=name,user_provided_name', base), {
    headers: { authorization },
  });
  const connections = (await response.json()) as { name: string; user_provided_name?: string }[];
  return connections
    .filter((c) => c.user_provided_name === `model-runner-operator/${identity}`)
    .map((c) => c.name);
}

async function main(): Promise<void> {
  const workDir = await mkdtemp(join(tmpdir(), 'bench-workerpool-'));
  const chainsFile = join(workDir, 'chains.json');
  await writeFile(
    chainsFile,
    JSON.stringify({
      chains: [
        {
          name: chain,
          chainId: 31337,
          rpc: { env: rpcEnvVar, secret: { name: 'rpc-bench', key: 'url' } },
          expectedBlocksPerDay: 86400,
          batchSizes: [{ fromBlock: 0, batchSize: BATCH_SIZE }],
          tipSafetyBlocks: 0,
          rpcClient: requireChain(loadChains(), 'local').rpcClient,
        },
      ],
    }),
  );
  const rabbit = await RabbitConnection.open({
    url: env.RABBITMQ_URL,
    connectionName: `bench-${tag}`,
    logger: quiet,
  });
  const publisher = new RabbitPublisher(rabbit, quiet);
  const redis = new IORedis.Redis(env.REDIS_URL, { maxRetriesPerRequest: 2 });
  let operator: OperatorProcess | undefined;
  try {
    await ensureWorkerPoolCrd();
    await kube.core.createNamespace({ body: { metadata: { name: namespace } } });
    await until('the default ServiceAccount', () =>
      findOrUndefined(() => kube.core.readNamespacedServiceAccount({ namespace, name: 'default' })),
    );
    await kube.core.createNamespacedSecret({
      namespace,
      body: {
        metadata: { name: 'model-runner-worker' },
        stringData: {
          RABBITMQ_URL: env.RABBITMQ_URL,
          REDIS_URL: env.REDIS_URL,
          CLICKHOUSE_URL: env.CLICKHOUSE_URL,
          [rpcEnvVar]: env.ETH_RPC_URL,
        },
      },
    });
    const anvil = await new AnvilSession(env.ETH_RPC_URL).init();
    const wanted = (MESSAGES + 2) * BATCH_SIZE;
    if ((await anvil.blockNumber()) < wanted) await anvil.mine(wanted);
    const top = (await anvil.blockNumber()) - BATCH_SIZE;
    const firstBlock = top - (top % BATCH_SIZE) - MESSAGES * BATCH_SIZE;

    operator = OperatorProcess.start({
      namespace,
      identity: `bench-operator-${tag}`,
      logFile: join(workDir, 'operator.log'),
      config: {
        chainsFile,
        lakeUrl: join(workDir, 'lake'),
        clickhouseDatabase: database,
        progressPrefix: redisPrefix,
        sinkEnv: 'bench',
        workerPools: { statisticsIntervalSeconds: 1 },
        worker: {
          image: 'model-runner/worker:dev',
          schedulerName: 'local-pod-runner',
          env: { METRICS_PORT: '0', WORKER_SINK: 'none', WORKER_CHAINS_FILE: chainsFile, LOG_LEVEL: 'warn' },
        },
      },
      env: {
        KUBECONFIG: env.KUBECONFIG,
        RABBITMQ_URL: env.RABBITMQ_URL,
        RABBITMQ_MANAGEMENT_URL: env.RABBITMQ_MANAGEMENT_URL,
        REDIS_URL: env.REDIS_URL,
        CLICKHOUSE_URL: env.CLICKHOUSE_URL,
        [rpcEnvVar]: env.ETH_RPC_URL,
      },
    });
    await operator.waitForLine('the operator to lead', (line) => line.msg === 'reconciling as leader');
    await rabbit.withChannel((channel) => assertWorkQueueTopology(channel, queue, RETRY_DELAYS_MS));
    await pools.create(namespace, {
      metadata: { name: 'bench' },
      spec: {
        queues: { names: [queue] },
        image: 'model-runner/worker:dev',
        minReplicas: 0,
        maxReplicas: MAX_WORKERS,
        autoscaling: {
          targetMessagesPerReplica: TARGET_PER_WORKER,
          cooldownSeconds: 30,
          pollIntervalSeconds: POLL_SECONDS,
        },
        podTemplate: { terminationGracePeriodSeconds: 30 },
      },
    });
    // A quorum queue's first figures reach the management API after ~5 s: start from a known queue.
    await until('the pool to see its queue', async () => {
      const pool = await pools.get(namespace, 'bench');
      return (
        pool?.status?.conditions?.some((c) => c.type === 'QueuesFound' && c.status === 'True') || undefined
      );
    });
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    const connectionsBefore = await operatorAmqpConnections(operator.identity);
    const metricsBefore = await operator.scrape();
    const reconcilesBefore = metricValue(metricsBefore, 'model_runner_operator_reconciles_total', {
      controller: 'workerpool',
      result: 'requeue',
    });
    const requestsBefore = metricValue(
      metricsBefore,
      'model_runner_operator_rabbitmq_management_requests_total',
      {
        result: 'ok',
      },
    );

    log(`publishing ${MESSAGES} batches of ${BATCH_SIZE} blocks (ingest) to ${queue}`);
    for (let index = 0; index < MESSAGES; index += 1) {
      const minBlock = firstBlock + index * BATCH_SIZE;
      await publisher.publishBatch(queue, {
        runId: { namespace, name: 'bench', uid: runUid },
        batchId: batchIdOf(chain, 'ingest', minBlock),
        model: 'ingest',
        version: 1,
        chain,
        minBlock,
        maxBlock: minBlock + BATCH_SIZE,
        force: false,
        maxRetriesPerBatch: 3,
        attempt: 1,
        enqueuedAt: new Date().toISOString(),
      });
    }
    const backlogAt = Date.now();
    const expected = Math.min(MAX_WORKERS, Math.ceil(MESSAGES / TARGET_PER_WORKER));
    // Until the decision nothing else wakes the pool: each finished reconcile is a poll.
    const started = operator;
    const polls = async () =>
      metricValue(await started.scrape(), 'model_runner_operator_reconciles_total', {
        controller: 'workerpool',
        result: 'requeue',
      }) ?? 0;
    const pollsAtBacklog = await polls();
    const nextPollAt = until(
      'the next poll',
      async () => ((await polls()) > pollsAtBacklog ? Date.now() : undefined),
      20,
    );
    nextPollAt.catch(() => undefined); // awaited below; a failure before then is the decision's
    const decidedAt = await until('the decision', async () => {
      const deployment = await kube.apps.readNamespacedDeployment({ namespace, name: 'bench' });
      return (deployment.spec?.replicas ?? 0) >= expected ? Date.now() : undefined;
    });
    const polledAt = await nextPollAt;
    const progress = new RunProgressStore(redis, { prefix: redisPrefix });
    const readyAt = await until('the workers to be ready', async () => {
      const { items } = await kube.core.listNamespacedPod({
        namespace,
        labelSelector: `${POOL_LABEL}=bench`,
      });
      const ready = items.filter((pod) =>
        pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
      ).length;
      return ready >= expected ? Date.now() : undefined;
    });
    const doneAtReady = (await progress.readOutcomes(runUid)).size;
    const drainedAt = await until(
      'the backlog to drain',
      async () => ((await progress.readOutcomes(runUid)).size >= MESSAGES ? Date.now() : undefined),
      200,
    );
    const metrics = await operator.scrape();
    const reconciles =
      (metricValue(metrics, 'model_runner_operator_reconciles_total', {
        controller: 'workerpool',
        result: 'requeue',
      }) ?? 0) - (reconcilesBefore ?? 0);
    const requests =
      (metricValue(metrics, 'model_runner_operator_rabbitmq_management_requests_total', { result: 'ok' }) ??
        0) - (requestsBefore ?? 0);
    const opened =
      metricValue(metrics, 'model_runner_operator_rabbitmq_management_connections_opened_total') ?? 0;
    const connectionsAfter = await operatorAmqpConnections(operator.identity);
    const drainSeconds = (drainedAt - readyAt) / 1000;
    const perWorker = (MESSAGES - doneAtReady) / drainSeconds / expected;

    console.log('');
    console.log('| measure | value |');
    console.log('|---|---:|');
    console.log(
      `| backlog → decided (${expected} workers for ${MESSAGES} messages at ${TARGET_PER_WORKER} each) | ${((decidedAt - backlogAt) / 1000).toFixed(1)} s |`,
    );
    console.log(
      `| of which backlog → the pool's next poll (its phase) | ${((polledAt - backlogAt) / 1000).toFixed(1)} s |`,
    );
    console.log(
      `| of which that poll → decided (~0: that poll saw the backlog) | ${(Math.max(0, decidedAt - polledAt) / 1000).toFixed(1)} s |`,
    );
    console.log(`| backlog → ${expected} workers ready | ${((readyAt - backlogAt) / 1000).toFixed(1)} s |`);
    console.log(
      `| poll interval (target: decided within one) | ${POLL_SECONDS} s: ${decidedAt - backlogAt <= POLL_SECONDS * 1000 ? 'met' : 'NOT met'} (+ the broker's 1 s statistics interval) |`,
    );
    console.log(
      `| drained per worker per second, ingest of ${BATCH_SIZE} blocks, ${expected} workers up | ${perWorker.toFixed(2)} messages |`,
    );
    console.log(
      `| the whole backlog: ready → drained | ${drainSeconds.toFixed(1)} s for ${MESSAGES - doneAtReady} messages (${doneAtReady} done before every worker was up) |`,
    );
    console.log(
      `| operator's AMQP connections on the broker, before → after | ${connectionsBefore.length} → ${connectionsAfter.length} (${connectionsBefore.join() === connectionsAfter.join() ? 'the same one' : 'CHANGED'}) |`,
    );
    console.log(`| connections opened to the management API, whole run | ${opened} |`);
    console.log(
      `| management API requests / pool polls, backlog → drained | ${requests} / ${reconciles} (readings shared for 1 s) |`,
    );
  } catch (error) {
    if (operator) console.error(operator.logTail(30));
    throw error;
  } finally {
    await operator?.stop();
    await kube.core.deleteNamespace({ name: namespace }).catch(() => undefined);
    await rabbit
      .withChannel((channel) => deleteWorkQueueTopology(channel, queue, RETRY_DELAYS_MS))
      .catch(() => undefined);
    await publisher.close().catch(() => undefined);
    await rabbit.close().catch(() => undefined);
    const keys = await redis.keys(`${redisPrefix}*`).catch(() => [] as string[]);
    if (keys.length > 0) await redis.del(...keys).catch(() => undefined);
    redis.disconnect();
    const clickhouse = createServerClient(env.CLICKHOUSE_URL);
    await clickhouse.command({ query: `DROP DATABASE IF EXISTS ${database}` }).catch(() => undefined);
    await clickhouse.close();
    await rm(workDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(`bench workerpool failed: ${(error as Error).stack ?? String(error)}`);
  process.exit(1);
});
