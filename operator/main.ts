// The operator process: `node operator/main.ts` (make run, or the Deployment make deploy
// installs). Configuration: operatorConfig.ts. Informers warm up at once; controllers reconcile
// only while this replica holds the leader Lease; SIGTERM releases it so another replica takes
// over at once.
import { readFileSync } from 'node:fs';
import IORedis from 'ioredis';
import pino from 'pino';
import { openMarkerStore } from '../adapters/clickhouse/index.ts';
import {
  CustomResourceClient,
  EventRecorder,
  createKubeClients,
  type ResourceQuery,
  customResourceType,
  listWatchClient,
  loadKubeConfig,
} from '../adapters/kube/index.ts';
import { BatchDispatcher } from '../adapters/rabbitmq/batchDispatcher.ts';
import { RabbitConnection } from '../adapters/rabbitmq/connection.ts';
import { FreshQueueCountReader } from '../adapters/rabbitmq/freshQueueCounts.ts';
import { RabbitManagementApi } from '../adapters/rabbitmq/managementApi.ts';
import { vhostOfAmqpUrl } from '../adapters/rabbitmq/queueDepth.ts';
import { RunProgressStore } from '../adapters/redis/progress.ts';
import type { KubernetesObject, V1Deployment, V1Pod } from '@kubernetes/client-node';
import type { ModelRun, ModelSchedule, WorkerPool } from '../crds/generated/types.ts';
import { API_GROUP, API_VERSION, MODEL_RUN, MODEL_SCHEDULE, WORKER_POOL } from '../crds/kinds.ts';
import { ModelRunController } from '../controllers/modelrun/modelRunController.ts';
import { ModelScheduleController } from '../controllers/modelschedule/modelScheduleController.ts';
import { POOL_LABEL } from '../controllers/planning/workerPoolDeployment.ts';
import { WorkerPoolController } from '../controllers/workerpool/workerPoolController.ts';
import {
  workerPodEnv,
  describeOperatorConfig,
  OperatorConfigError,
  parseOperatorConfig,
} from './operatorConfig.ts';
import { chainReader } from './chainReader.ts';
import { modelRunPorts } from './modelRunWiring.ts';
import { openRunHistory } from './history/runHistoryWiring.ts';
import { modelSchedulePorts } from './modelScheduleWiring.ts';
import { createWorkerPoolMetrics } from './workerPoolMetrics.ts';
import { poolKeysOfLabelled, workerPoolPorts } from './workerPoolWiring.ts';
import {
  ControllerManager,
  Informer,
  LeaderElector,
  controllerOwnerKeys,
  createOperatorMetrics,
  informerRestartHook,
  startOperatorMetricsServer,
} from './runtime/index.ts';
import { namespaceFilter } from './namespaceFilter.ts';

const EXIT_CONFIG = 2;

function readConfig() {
  try {
    const source =
      process.env.OPERATOR_CONFIG ??
      (process.env.OPERATOR_CONFIG_FILE ? readFileSync(process.env.OPERATOR_CONFIG_FILE, 'utf8') : undefined);
    return parseOperatorConfig(process.env, source, (path) => readFileSync(path, 'utf8'));
  } catch (error) {
    if (error instanceof OperatorConfigError || (error as NodeJS.ErrnoException).code === 'ENOENT') {
      process.stderr.write(`operator configuration: ${(error as Error).message}\n`);
      process.exit(EXIT_CONFIG);
    }
    throw error;
  }
}

async function main(): Promise<void> {
  const config = readConfig();
  const log = pino({ level: config.logLevel, base: { operator: config.identity } });
  process.on('unhandledRejection', (reason) => {
    log.fatal({ err: (reason as Error)?.message ?? String(reason) }, 'unhandled rejection');
    process.exit(1);
  });
  log.info({ config: describeOperatorConfig(config) }, 'operator starting');

  const kube = createKubeClients(loadKubeConfig(process.env));
  const metrics = createOperatorMetrics();
  const manager = new ControllerManager({ log, metrics });
  const watch = listWatchClient(kube.config);
  const runType = customResourceType(MODEL_RUN);
  // Every cache watches the operator's namespace (all when unset), its restarts counted under its name.
  const informer = <T extends KubernetesObject>(name: string, resource: ResourceQuery): Informer<T> =>
    new Informer<T>({
      name,
      resource: { ...resource, namespace: config.watchNamespace },
      client: watch,
      log,
      onRestart: informerRestartHook(metrics, name),
    });
  const runCache = informer<ModelRun>('modelruns', runType);
  const jobCache = informer('jobs', {
    group: 'batch',
    version: 'v1',
    plural: 'jobs',
    labelSelector: 'app.kubernetes.io/managed-by=model-runner',
  });

  const redis = new IORedis.Redis(config.endpoints.redisUrl, {
    maxRetriesPerRequest: 2,
    connectTimeout: 5_000,
    // A reconcile reads a run's outcomes, failures and ledger at once: one round trip, not four.
    enableAutoPipelining: true,
  });
  redis.on('error', (error: Error) => log.warn({ err: error.message }, 'redis error'));
  const markers = await openMarkerStore(config.endpoints.clickhouseUrl, {
    database: config.clickhouseDatabase,
    chains: config.chains,
  });
  // Planning reads the markers: the table exists before the first reconcile (workers create it too).
  await markers
    .ensureTable()
    .catch((error: unknown) =>
      log.warn({ err: (error as Error).message }, 'could not create the marker table yet; reconciles retry'),
    );
  const rabbit = await RabbitConnection.open({
    url: config.endpoints.rabbitmqUrl,
    connectionName: `model-runner-operator/${config.identity}`,
    logger: log,
  });
  const dispatcher = new BatchDispatcher(rabbit, log);
  const events = new EventRecorder({ events: kube.events, reportingInstance: config.identity, log });
  const progress = new RunProgressStore(redis, { prefix: config.progressPrefix });
  // Both controllers read the chains through one reader: one RPC client and tip cache per chain.
  const chainReads = chainReader(config.rpcUrls, config.chains, log);
  const workerSettings = {
    image: config.worker.image,
    secretName: config.worker.secretName,
    ...(config.worker.schedulerName ? { schedulerName: config.worker.schedulerName } : {}),
    env: workerPodEnv(config),
  };
  const controller = new ModelRunController(
    modelRunPorts({
      kube,
      runs: new CustomResourceClient<ModelRun>(kube.customObjects, runType),
      runCache,
      events,
      markers,
      progress,
      dispatcher,
      chainReads,
      settings: {
        chains: config.chains,
        worker: workerSettings,
        maxInFlightPerRun: config.maxInFlightPerRun,
        statusIntervalMs: config.statusIntervalMs,
        waitPollMs: config.waitPollMs,
      },
      log,
    }),
  );
  const served = namespaceFilter(config.namespaceSelector, watch, log);
  manager.register({
    name: 'modelrun',
    primary: runCache,
    secondary: [
      {
        informer: jobCache,
        keysFor: controllerOwnerKeys({ apiVersion: `${API_GROUP}/${API_VERSION}`, kind: 'ModelRun' }),
      },
    ],
    reconcile: served.guard((key, _signal, reconcileLog) => controller.reconcile(key, reconcileLog)),
    concurrency: config.reconcileConcurrency,
  });

  // ModelSchedule: creates the ModelRuns it owns from the markers; a run's change wakes its schedule.
  const scheduleType = customResourceType(MODEL_SCHEDULE);
  const scheduleCache = informer<ModelSchedule>('modelschedules', scheduleType);
  const scheduleController = new ModelScheduleController(
    modelSchedulePorts({
      kube,
      schedules: new CustomResourceClient<ModelSchedule>(kube.customObjects, scheduleType),
      scheduleCache,
      runs: new CustomResourceClient<ModelRun>(kube.customObjects, runType),
      runCache,
      events,
      markers,
      chainReads,
      settings: { chains: config.chains, statusIntervalMs: config.statusIntervalMs },
      log,
    }),
  );
  manager.register({
    name: 'modelschedule',
    primary: scheduleCache,
    secondary: [
      {
        informer: runCache,
        keysFor: controllerOwnerKeys({ apiVersion: `${API_GROUP}/${API_VERSION}`, kind: 'ModelSchedule' }),
      },
    ],
    reconcile: served.guard((key, _signal, reconcileLog) => scheduleController.reconcile(key, reconcileLog)),
    concurrency: 2,
  });

  // ---- WorkerPool controller: a Deployment per pool, scaled on queue depth ----------------------
  // Reads the depth from passive queue declares on the operator's one AMQP connection (ready
  // messages as they are) and the RabbitMQ management API (unacked; one kept-alive connection for
  // every pool), and never writes a pool's spec: the count goes to the owned Deployment and status.
  const poolMetrics = createWorkerPoolMetrics(metrics.registry);
  const managementApi = config.endpoints.rabbitmqManagementUrl
    ? new RabbitManagementApi({
        url: config.endpoints.rabbitmqManagementUrl,
        vhost: vhostOfAmqpUrl(config.endpoints.rabbitmqUrl),
        onConnectionOpened: () => poolMetrics.managementConnections.inc(),
        onRequest: (result) => poolMetrics.managementRequests.inc({ result }),
      })
    : undefined;
  if (!managementApi)
    log.warn('RABBITMQ_MANAGEMENT_URL is not set: WorkerPools cannot read their queue depth');
  const freshCounts = new FreshQueueCountReader(rabbit, log);
  const poolType = customResourceType(WORKER_POOL);
  const poolCache = informer<WorkerPool>('workerpools', poolType);
  const poolDeploymentCache = informer<V1Deployment>('workerpool-deployments', {
    group: 'apps',
    version: 'v1',
    plural: 'deployments',
    labelSelector: POOL_LABEL,
  });
  const poolPodCache = informer<V1Pod>('workerpool-pods', {
    group: '',
    version: 'v1',
    plural: 'pods',
    labelSelector: POOL_LABEL,
  });
  const poolController = new WorkerPoolController(
    workerPoolPorts({
      kube,
      pools: new CustomResourceClient<WorkerPool>(kube.customObjects, poolType),
      poolCache,
      deploymentCache: poolDeploymentCache,
      podCache: poolPodCache,
      events,
      managementApi,
      freshCounts,
      metrics: poolMetrics,
      settings: {
        worker: workerSettings,
        statsMaxAgeMs: Math.min(1_000, config.workerPools.statisticsIntervalMs),
        minCooldownMs: 2 * config.workerPools.statisticsIntervalMs,
        deletionCostSettleMs: 2_000,
      },
      log,
    }),
  );
  manager.register({
    name: 'workerpool',
    primary: poolCache,
    secondary: [
      {
        informer: poolDeploymentCache,
        keysFor: controllerOwnerKeys({ apiVersion: `${API_GROUP}/${API_VERSION}`, kind: 'WorkerPool' }),
      },
      { informer: poolPodCache, keysFor: poolKeysOfLabelled },
    ],
    reconcile: served.guard((key, _signal, reconcileLog) => poolController.reconcile(key, reconcileLog)),
    concurrency: 2,
  });
  // ---- end of the WorkerPool controller ----------------------------------------------------------
  served.start();

  // --- Run history (Postgres at DATABASE_URL) -------------------------------------------------
  // A mirror of the runs and their batches that outlives the resources. Every replica migrates
  // the schema and remembers what changed; only the leader writes. Postgres is never on the
  // reconcile path: while it is down the controllers work on and the history catches up later.
  const history = config.endpoints.databaseUrl
    ? openRunHistory({
        databaseUrl: config.endpoints.databaseUrl,
        identity: config.identity,
        runs: runCache,
        progress,
        log,
      })
    : undefined;
  if (history) history.mirror.start();
  else log.info('DATABASE_URL is not set: no run history is kept');
  // ---------------------------------------------------------------------------------------------

  manager.startInformers();

  const server = await startOperatorMetricsServer({
    metrics,
    host: config.metricsHost,
    port: config.metricsPort,
    health: () => manager.health(),
    ready: () => manager.readiness(),
  });
  log.info({ host: config.metricsHost, port: server.port }, 'metrics listening');

  const elector = new LeaderElector({
    coordination: kube.coordination,
    namespace: config.namespace,
    name: config.leaseName,
    identity: config.identity,
    log,
    onStartedLeading: async (signal) => {
      await Promise.all([manager.lead(signal), history?.mirror.lead(signal)]);
    },
    onLeadershipChange: (leading) => metrics.leader.set(leading ? 1 : 0),
  });
  elector.start();

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    log.info({ signal }, 'operator stopping: releasing the lease');
    await elector.release();
    await manager.stopInformers();
    await served.stop();
    await history?.close();
    await dispatcher.close();
    managementApi?.close();
    await freshCounts.close();
    await rabbit.close().catch(() => undefined);
    await markers.close().catch(() => undefined);
    redis.disconnect();
    await server.close();
    log.info('operator stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`operator failed: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
});
