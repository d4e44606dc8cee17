// Everything a WorkerPool integration test needs, all its own: a namespace with the worker
// Secret, a chain name (so its queues, lake paths, markers and Redis keys are unique) in a chains
// file with its own RPC env var, a ClickHouse database, a Redis prefix, a lake folder, a local
// pod runner started from this checkout (so worker pods run this branch's worker), and the
// operator of this checkout reconciling only that namespace. `cleanup()` removes what it can.
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventsV1Event, V1Deployment, V1Pod } from '@kubernetes/client-node';
import IORedis from 'ioredis';
import { createServerClient } from '../../../adapters/clickhouse/clickhouseClient.ts';
import {
  CustomResourceClient,
  apiStatusCode,
  customResourceType,
  describeApiError,
} from '../../../adapters/kube/index.ts';
import type { RabbitConnection } from '../../../adapters/rabbitmq/connection.ts';
import { RabbitPublisher } from '../../../adapters/rabbitmq/publisher.ts';
import { assertWorkQueueTopology, deleteWorkQueueTopology } from '../../../adapters/rabbitmq/topology.ts';
import { RunProgressStore, type RunProgress } from '../../../adapters/redis/progress.ts';
import { batchIdOf, type BatchMessage } from '../../../contract/batchMessage.ts';
import { type Lane, type ModelKind, workQueueName } from '../../../contract/queues.ts';
import { POOL_LABEL } from '../../../controllers/planning/workerPoolDeployment.ts';
import type { WorkerPool } from '../../../crds/generated/types.ts';
import { API_GROUP, API_VERSION, WORKER_POOL, crdName } from '../../../crds/kinds.ts';
import { loadChains, requireChain } from '../../../dataplane/chains.ts';
import { AnvilSession } from '../../../devtools/anvil/erc20Scenario.ts';
import { OperatorProcess, metricValue } from '../../../devtools/operatorProcess.ts';
import { stackEnv } from '../../../devtools/stackEnv.ts';
import { modelRegistry } from '../../../models/registry.ts';
import { generatedCrdsDir, installCrds, kubectlOk } from '../../support/crds.ts';
import {
  createTestNamespace,
  deleteTestNamespace,
  findOrUndefined,
  kubeClients,
  mergePatch,
  pollUntil,
} from '../../support/kube.ts';
import {
  logTail,
  retireLocalPodRunner,
  startLocalPodRunner,
  waitUntilNodeReady,
} from '../../support/localPodRunner.ts';
import { uniqueIdentifier, uniqueName } from '../../support/names.ts';
import { openTestConnection, quietLogger } from '../worker/support.ts';

export const BATCH_SIZE = 100;
export const RETRY_DELAYS_MS = [300, 600];
/** A scheduler nobody serves: pods that ask for it stay Pending. */
export const NO_SCHEDULER = 'nobody-schedules-these';

const WORKER_POOL_CRD = crdName(WORKER_POOL);
let keeping = false;

/**
 * Other checkouts that share the stack's API server install their own CRDs, which may be an
 * older WorkerPool without this checkout's status fields and columns (the API server then
 * refuses the operator's status writes): while a test runs, put this checkout's back.
 */
async function keepWorkerPoolCrd(): Promise<void> {
  if (keeping) return;
  keeping = true;
  try {
    const live = await kubeClients().objects.read({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: WORKER_POOL_CRD },
    });
    const text = JSON.stringify(live);
    if (text.includes('lastScaleReason') && text.includes('startingReplicas')) return;
    await kubectlOk([
      'apply',
      '--server-side',
      '--force-conflicts',
      '--field-manager=model-runner-crd-install',
      '--filename',
      join(generatedCrdsDir, `${WORKER_POOL_CRD}.yaml`),
    ]);
  } catch (error) {
    console.error(`could not check the WorkerPool CRD: ${(error as Error).message}`);
  } finally {
    keeping = false;
  }
}

export interface PoolWorldOptions {
  /** Start a local pod runner from this checkout (worker pods really run). */
  podRunner: boolean;
  /** The broker as workers see it (the worker Secret's RABBITMQ_URL); default the stack's. */
  workerRabbitmqUrl?: string;
  /** The broker as the operator sees it; default the stack's. */
  operatorRabbitmqUrl?: string;
  operatorManagementUrl?: string;
  /** The chain's JSON-RPC as workers see it; default the stack's anvil. */
  workerRpcUrl?: string;
}

export class PoolWorld {
  readonly chain = uniqueIdentifier('wp');
  readonly rpcEnvVar = `RPC_${uniqueIdentifier('WP').toUpperCase()}`;
  readonly database = uniqueIdentifier('wp');
  readonly redisPrefix = `${uniqueName('wp')}:`;
  readonly runnerNode = uniqueName('wp-runner');
  readonly pools: CustomResourceClient<WorkerPool>;
  namespace = '';
  workDir = '';
  chainsFile = '';
  runner: ChildProcess | undefined;
  operator!: OperatorProcess;
  connection!: RabbitConnection;
  publisher!: RabbitPublisher;
  redis!: InstanceType<typeof IORedis.Redis>;
  progress!: RunProgressStore;
  readonly #declared = new Set<string>();
  #crdKeeper: NodeJS.Timeout | undefined;

  private constructor() {
    this.pools = new CustomResourceClient<WorkerPool>(
      kubeClients().customObjects,
      customResourceType(WORKER_POOL),
    );
  }

  static async create(options: PoolWorldOptions): Promise<PoolWorld> {
    const world = new PoolWorld();
    try {
      await world.#setUp(options);
      return world;
    } catch (error) {
      // Whatever was started (the operator, the pod runner) must not outlive the test.
      await world.cleanup().catch(() => undefined);
      throw error;
    }
  }

  async #setUp(options: PoolWorldOptions): Promise<void> {
    const env = stackEnv();
    await installCrds();
    this.#crdKeeper = setInterval(() => void keepWorkerPoolCrd(), 2_000);
    this.namespace = await createTestNamespace('wp');
    this.workDir = await mkdtemp(join(tmpdir(), 'workerpool-test-'));
    this.chainsFile = join(this.workDir, 'chains.json');
    await writeFile(
      this.chainsFile,
      JSON.stringify({
        chains: [
          {
            name: this.chain,
            chainId: 31337,
            rpc: { env: this.rpcEnvVar, secret: { name: 'rpc-test', key: 'url' } },
            expectedBlocksPerDay: 86400,
            batchSizes: [{ fromBlock: 0, batchSize: BATCH_SIZE }],
            tipSafetyBlocks: 0,
            rpcClient: requireChain(loadChains(), 'local').rpcClient,
          },
        ],
      }),
    );
    await kubeClients().core.createNamespacedSecret({
      namespace: this.namespace,
      body: {
        metadata: { name: 'model-runner-worker' },
        stringData: {
          RABBITMQ_URL: options.workerRabbitmqUrl ?? env.RABBITMQ_URL,
          REDIS_URL: env.REDIS_URL,
          CLICKHOUSE_URL: env.CLICKHOUSE_URL,
          [this.rpcEnvVar]: options.workerRpcUrl ?? env.ETH_RPC_URL,
        },
      },
    });
    if (options.podRunner) {
      this.runner = startLocalPodRunner(this.runnerNode, join(this.workDir, 'pod-runner.log'));
      await waitUntilNodeReady(this.runnerNode, () => logTail(join(this.workDir, 'pod-runner.log')));
    }
    this.connection = await openTestConnection(uniqueName('test-workerpool'));
    this.publisher = new RabbitPublisher(this.connection, quietLogger());
    this.redis = new IORedis.Redis(env.REDIS_URL);
    this.progress = new RunProgressStore(this.redis, { prefix: this.redisPrefix });
    this.operator = OperatorProcess.start({
      namespace: this.namespace,
      identity: uniqueName('operator'),
      logFile: join(this.workDir, 'operator.log'),
      config: {
        chainsFile: this.chainsFile,
        lakeUrl: join(this.workDir, 'lake'),
        clickhouseDatabase: this.database,
        progressPrefix: this.redisPrefix,
        sinkEnv: 'dev',
        statusIntervalSeconds: 1,
        waitPollSeconds: 1,
        // The stack's RabbitMQ refreshes its statistics every second (stack/components/services.sh).
        workerPools: { statisticsIntervalSeconds: 1 },
        worker: {
          image: 'model-runner/worker:dev',
          schedulerName: this.runnerNode,
          env: {
            // Every pod shares 127.0.0.1: each picks a free metrics port.
            METRICS_PORT: '0',
            WORKER_SINK: 'none',
            WORKER_CHAINS_FILE: this.chainsFile,
            WORKER_RETRY_DELAYS_MS: RETRY_DELAYS_MS.join(','),
          },
        },
      },
      env: {
        KUBECONFIG: env.KUBECONFIG,
        RABBITMQ_URL: options.operatorRabbitmqUrl ?? env.RABBITMQ_URL,
        RABBITMQ_MANAGEMENT_URL: options.operatorManagementUrl ?? env.RABBITMQ_MANAGEMENT_URL,
        REDIS_URL: env.REDIS_URL,
        CLICKHOUSE_URL: env.CLICKHOUSE_URL,
        [this.rpcEnvVar]: env.ETH_RPC_URL,
      },
    });
    await this.operator.waitForLine('the operator to lead', (line) => line.msg === 'reconciling as leader');
  }

  queue(lane: Lane = 'backfill', kind: ModelKind = 'nonreads'): string {
    return workQueueName(this.chain, lane, kind);
  }

  /**
   * Creates a pool; `spec` is merged over a pool of this world's backfill nonreads queue. A 422
   * may come from another checkout's older CRD installed a moment ago: this checkout's is put
   * back and the create retried until the deadline (a pool our schema refuses times out with
   * the API server's message).
   */
  async createPool(name: string, spec: Partial<WorkerPool['spec']>): Promise<WorkerPool> {
    const pool: WorkerPool = {
      metadata: { name },
      spec: { queues: { names: [this.queue()] }, image: 'model-runner/worker:dev', ...spec },
    };
    let refused: unknown;
    return pollUntil(
      `WorkerPool ${name} to be created`,
      async () => {
        try {
          return await this.pools.create(this.namespace, pool);
        } catch (error) {
          if (apiStatusCode(error) !== 422) throw error;
          refused = error;
          await keepWorkerPoolCrd();
          return undefined;
        }
      },
      { timeoutMs: 20_000, intervalMs: 1_000, describe: () => describeApiError(refused) },
    );
  }

  /** Merges `spec` into the pool's spec (as kubectl patch --type merge does). */
  async patchPool(name: string, spec: Partial<WorkerPool['spec']>): Promise<void> {
    await kubeClients().customObjects.patchNamespacedCustomObject(
      {
        group: API_GROUP,
        version: API_VERSION,
        plural: WORKER_POOL.plural,
        namespace: this.namespace,
        name,
        body: { spec },
      },
      mergePatch,
    );
  }

  /** WorkerPool reconciles the operator has finished (a poll each, between other changes). */
  async reconciles(): Promise<number> {
    const metrics = await this.operator.scrape();
    const finished = (result: string) =>
      metricValue(metrics, 'model_runner_operator_reconciles_total', { controller: 'workerpool', result }) ??
      0;
    return finished('requeue') + finished('success');
  }

  async pool(name: string): Promise<WorkerPool> {
    const pool = await this.pools.get(this.namespace, name);
    if (!pool) throw new Error(`WorkerPool ${name} is gone`);
    return pool;
  }

  async deployment(name: string): Promise<V1Deployment | undefined> {
    return findOrUndefined(() =>
      kubeClients().apps.readNamespacedDeployment({ namespace: this.namespace, name }),
    );
  }

  async pods(pool: string): Promise<V1Pod[]> {
    const { items } = await kubeClients().core.listNamespacedPod({
      namespace: this.namespace,
      labelSelector: `${POOL_LABEL}=${pool}`,
    });
    return items;
  }

  /** Waits until the pool's Deployment asks for `replicas` (the operator's decision). */
  async waitForDecision(pool: string, replicas: number, timeoutMs: number): Promise<V1Deployment> {
    let seen: V1Deployment | undefined;
    return pollUntil(
      `Deployment ${pool} to be scaled to ${replicas}`,
      async () => {
        seen = await this.deployment(pool);
        return seen?.spec?.replicas === replicas ? seen : undefined;
      },
      { timeoutMs, intervalMs: 100, describe: () => this.describe(pool, seen) },
    );
  }

  /** Pool status, Deployment replicas and the operator's last lines, for failure messages. */
  async describe(pool: string, deployment?: V1Deployment): Promise<string> {
    const status = (await this.pools.get(this.namespace, pool))?.status;
    return (
      JSON.stringify({ status, deploymentReplicas: deployment?.spec?.replicas }) +
      '\n' +
      this.operator.logTail(40)
    );
  }

  /** A batch of `ingest` on this world's chain, of its own run. */
  batch(minBlock: number, runUid: string): BatchMessage {
    return {
      runId: { namespace: this.namespace, name: 'pool-test', uid: runUid },
      batchId: batchIdOf(this.chain, 'ingest', minBlock),
      model: 'ingest',
      version: modelRegistry.get('ingest').version,
      chain: this.chain,
      minBlock,
      maxBlock: minBlock + BATCH_SIZE,
      force: false,
      maxRetriesPerBatch: 5,
      attempt: 1,
      enqueuedAt: new Date().toISOString(),
    };
  }

  /** First blocks of `count` whole batches below anvil's tip (mined first when the chain is short). */
  async batchStarts(count: number): Promise<number[]> {
    const anvil = await new AnvilSession(stackEnv().ETH_RPC_URL).init();
    const wanted = (count + 2) * BATCH_SIZE;
    if ((await anvil.blockNumber()) < wanted) await anvil.mine(wanted);
    const top = (await anvil.blockNumber()) - BATCH_SIZE;
    const last = top - (top % BATCH_SIZE) - BATCH_SIZE;
    return Array.from({ length: count }, (_, index) => last - index * BATCH_SIZE);
  }

  /** Waits for an Event about the pool with this reason (Events are written after the status). */
  async waitForEvent(pool: string, reason: string, note: RegExp = /./): Promise<EventsV1Event> {
    return pollUntil(
      `an Event ${reason} about WorkerPool ${pool}`,
      async () => {
        const { items } = await kubeClients().events.listNamespacedEvent({ namespace: this.namespace });
        return items.find(
          (event) =>
            event.regarding?.kind === 'WorkerPool' &&
            event.regarding.name === pool &&
            event.reason === reason &&
            note.test(event.note ?? ''),
        );
      },
      { timeoutMs: 10_000, intervalMs: 200 },
    );
  }

  /** Declares the queue (and its retry and dead-letter queues) as the operator and workers do. */
  async declare(queue: string): Promise<void> {
    if (this.#declared.has(queue)) return;
    await this.connection.withChannel((channel) => assertWorkQueueTopology(channel, queue, RETRY_DELAYS_MS));
    this.#declared.add(queue);
  }

  async publish(queue: string, messages: readonly BatchMessage[]): Promise<void> {
    await this.declare(queue);
    for (const message of messages) await this.publisher.publishBatch(queue, message);
  }

  readProgress(runUid: string): Promise<RunProgress> {
    return this.progress.readProgress(runUid);
  }

  /** Every JSON line the worker pods of this namespace logged (pods gone included). */
  async workerLines(): Promise<Record<string, unknown>[]> {
    const dir = join(stackEnv().MODEL_RUNNER_STACK_DIR, 'pods');
    const files = (await readdir(dir)).filter(
      (file) => file.startsWith(`${this.namespace}_`) && file.endsWith('.log'),
    );
    const lines: Record<string, unknown>[] = [];
    for (const file of files) {
      for (const line of (await readFile(join(dir, file), 'utf8')).split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          lines.push({ ...(JSON.parse(line) as Record<string, unknown>), file });
        } catch {
          // A line cut short by a kill is not a record.
        }
      }
    }
    return lines;
  }

  async cleanup(): Promise<void> {
    clearInterval(this.#crdKeeper);
    await this.operator?.stop();
    if (this.namespace) {
      // Pools first, so the runner stops their workers gracefully before it goes.
      await kubeClients()
        .apps.deleteCollectionNamespacedDeployment({ namespace: this.namespace })
        .catch(() => undefined);
      await retireLocalPodRunner(this.runner, this.runnerNode, this.namespace, () =>
        logTail(join(this.workDir, 'pod-runner.log')),
      );
      await deleteTestNamespace(this.namespace);
      const dir = join(stackEnv().MODEL_RUNNER_STACK_DIR, 'pods');
      for (const file of await readdir(dir).catch(() => [] as string[])) {
        if (file.startsWith(`${this.namespace}_`))
          await rm(join(dir, file), { recursive: true, force: true });
      }
    }
    for (const queue of this.#declared) {
      await this.connection
        ?.withChannel((channel) => deleteWorkQueueTopology(channel, queue, RETRY_DELAYS_MS))
        .catch(() => undefined);
    }
    await this.publisher?.close().catch(() => undefined);
    await this.connection?.close().catch(() => undefined);
    if (this.redis) {
      const keys = await this.redis.keys(`${this.redisPrefix}*`);
      if (keys.length > 0) await this.redis.del(...keys);
      this.redis.disconnect();
    }
    const admin = createServerClient(stackEnv().CLICKHOUSE_URL);
    await admin.command({ query: `DROP DATABASE IF EXISTS ${this.database}` }).catch(() => undefined);
    await admin.close();
    if (this.workDir) await rm(this.workDir, { recursive: true, force: true });
  }
}
