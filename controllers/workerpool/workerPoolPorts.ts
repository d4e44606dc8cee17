// What the WorkerPool controller needs from the world, in its own words. The operator wires
// these to the Kubernetes API (informer caches for reads), the RabbitMQ management API and
// passive declares on the operator's AMQP connection (operator/workerPoolWiring.ts); nothing in
// the controller knows which client serves them.
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { WorkerPool, WorkerPoolStatus } from '../../crds/generated/types.ts';
import type { WorkerPodSettings } from '../planning/indexedJob.ts';
import type { FreshQueueCounts } from '../planning/workerPoolDepth.ts';

export interface WorkerPoolStore {
  /** From the informer's cache: undefined when the pool is gone. */
  get(namespace: string, name: string): WorkerPool | undefined;
  applyStatus(pool: WorkerPool, status: WorkerPoolStatus): Promise<void>;
}

export interface PoolDeployments {
  /** From the informer's cache, which holds only Deployments with the pool label. */
  get(namespace: string, name: string): V1Deployment | undefined;
  /** From the API server: any Deployment of that name (undefined when there is none). */
  read(namespace: string, name: string): Promise<V1Deployment | undefined>;
  /** Server-side apply of the whole Deployment; returns it as stored. */
  apply(deployment: V1Deployment): Promise<V1Deployment>;
}

export interface PoolPods {
  /** The pool's pods (its label), from the informer's cache. */
  list(namespace: string, poolName: string): V1Pod[];
  /** Sets one annotation of a pod (undefined: the pod is gone). */
  annotate(namespace: string, name: string, annotation: string, value: string): Promise<void>;
}

export interface QueueStatsReading {
  ready: number;
  unacked: number;
  consumers: number;
}

export interface BrokerStats {
  /** Every work queue the broker has, by name (a reading at most `maxAgeMs` old). Throws when it cannot be read. */
  queues(maxAgeMs: number): Promise<ReadonlyMap<string, QueueStatsReading>>;
  /** Unacked messages per client connection name (a worker's is its pod name), at most `maxAgeMs` old. Throws when it cannot be read. */
  unackedByConnection(maxAgeMs: number): Promise<ReadonlyMap<string, number>>;
}

export interface FreshQueueCountSource {
  /**
   * Ready messages and consumers of each queue as the broker holds them now (passive declares;
   * null: the queue does not exist). No unacked count. Throws when the broker cannot be asked.
   */
  read(queues: readonly string[]): Promise<ReadonlyMap<string, FreshQueueCounts | null>>;
}

export interface PoolEvents {
  record(pool: WorkerPool, type: 'Normal' | 'Warning', reason: string, note: string): void;
}

export interface PoolMetrics {
  observed(
    pool: WorkerPool,
    figures: {
      ready: number | undefined;
      unacked: number | undefined;
      desired: number;
      readyReplicas: number;
    },
  ): void;
  scaled(pool: WorkerPool, reason: string): void;
  /** The pool is gone: drop its series. */
  forget(namespace: string, name: string): void;
}

export interface WorkerPoolSettings {
  worker: WorkerPodSettings;
  /** Shared readings of the broker younger than this are reused. */
  statsMaxAgeMs: number;
  /**
   * The shortest cooldown: two of the broker's statistics intervals, so a scale-down never
   * picks workers on figures that do not show the latest deliveries yet.
   */
  minCooldownMs: number;
  /** How long a scale-down waits for the pods' deletion costs to show in the cache. */
  deletionCostSettleMs: number;
}

export interface WorkerPoolPorts {
  pools: WorkerPoolStore;
  deployments: PoolDeployments;
  pods: PoolPods;
  /** undefined: the operator has no management API URL, so the depth is never known. */
  broker: BrokerStats | undefined;
  /** undefined: no AMQP connection to ask, so the management API's figures stand alone. */
  freshCounts: FreshQueueCountSource | undefined;
  events: PoolEvents;
  metrics: PoolMetrics;
  settings: WorkerPoolSettings;
  clock: () => Date;
  sleep: (ms: number) => Promise<void>;
  log: Logger;
}
