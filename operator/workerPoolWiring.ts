// The WorkerPool controller's ports, served by the real clients: the Kubernetes API (reads from
// the informers' caches, writes by server-side apply and merge patch), the RabbitMQ management
// API (one client, one kept-alive connection, readings shared by every pool) and passive queue
// declares on the operator's one AMQP connection.
import type { KubernetesObject, V1Deployment, V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import {
  type CustomResourceClient,
  type EventRecorder,
  type KubeClients,
  findOrUndefined,
  isNotFound,
  mergePatch,
  serverSideApply,
} from '../adapters/kube/index.ts';
import type { FreshQueueCountReader } from '../adapters/rabbitmq/freshQueueCounts.ts';
import type { RabbitManagementApi } from '../adapters/rabbitmq/managementApi.ts';
import type { WorkerPool } from '../crds/generated/types.ts';
import { fieldManagerFor, WORKER_POOL } from '../crds/kinds.ts';
import { POOL_LABEL } from '../controllers/planning/workerPoolDeployment.ts';
import type { WorkerPoolPorts, WorkerPoolSettings } from '../controllers/workerpool/workerPoolPorts.ts';
import type { WorkerPoolMetrics } from './workerPoolMetrics.ts';
import { keyOf, type Informer } from './runtime/index.ts';
import { eventsPort } from './eventsPort.ts';

export interface WorkerPoolWiring {
  kube: KubeClients;
  pools: CustomResourceClient<WorkerPool>;
  poolCache: Informer<WorkerPool>;
  deploymentCache: Informer<V1Deployment>;
  podCache: Informer<V1Pod>;
  events: EventRecorder;
  managementApi: RabbitManagementApi | undefined;
  freshCounts: FreshQueueCountReader;
  metrics: WorkerPoolMetrics;
  settings: WorkerPoolSettings;
  log: Logger;
}

/** A worker pod (or anything with the pool label) → the key of its pool, for the pod informer. */
export function poolKeysOfLabelled(object: KubernetesObject): string[] {
  const pool = object.metadata?.labels?.[POOL_LABEL];
  return pool ? [keyOf(object.metadata?.namespace ?? '', pool)] : [];
}

export function workerPoolPorts(wiring: WorkerPoolWiring): WorkerPoolPorts {
  const { kube, pools, managementApi } = wiring;
  const fieldManager = fieldManagerFor(WORKER_POOL);
  return {
    pools: {
      get: (namespace, name) => wiring.poolCache.get(namespace, name),
      applyStatus: async (pool, status) => {
        await pools.applyStatus(pool, status, fieldManager);
      },
    },
    deployments: {
      get: (namespace, name) => wiring.deploymentCache.get(namespace, name),
      read: (namespace, name) =>
        findOrUndefined(() => kube.apps.readNamespacedDeployment({ namespace, name })),
      apply: (deployment) =>
        kube.apps.patchNamespacedDeployment(
          {
            name: deployment.metadata?.name ?? '',
            namespace: deployment.metadata?.namespace ?? '',
            body: deployment,
            fieldManager,
            force: true,
          },
          serverSideApply,
        ),
    },
    pods: {
      list: (namespace, poolName) =>
        wiring.podCache
          .list()
          .filter(
            (pod) => pod.metadata?.namespace === namespace && pod.metadata?.labels?.[POOL_LABEL] === poolName,
          ),
      annotate: async (namespace, name, annotation, value) => {
        try {
          await kube.core.patchNamespacedPod(
            { namespace, name, body: { metadata: { annotations: { [annotation]: value } } } },
            mergePatch,
          );
        } catch (error) {
          if (!isNotFound(error)) throw error;
        }
      },
    },
    broker: managementApi && {
      queues: (maxAgeMs) => managementApi.workQueueStats(maxAgeMs),
      unackedByConnection: (maxAgeMs) => managementApi.unackedByConnectionName(maxAgeMs),
    },
    freshCounts: wiring.freshCounts,
    events: eventsPort(wiring.events, { apiVersion: pools.apiVersion, kind: 'WorkerPool' }, 'Scale'),
    metrics: wiring.metrics,
    settings: wiring.settings,
    clock: () => new Date(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    log: wiring.log,
  };
}
