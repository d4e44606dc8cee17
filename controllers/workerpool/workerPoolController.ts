// The WorkerPool reconciler: read the pool (gone or deleting → stop: its Deployment goes with it
// by owner reference), look at its pods and the depth of its queues, decide the worker count in
// pure code, apply the Deployment, and write status when it changed. It never writes the pool's
// spec: with autoscaling the count goes to the Deployment and to status, as an HPA's does.
//
// Before a scale-down it marks each pod with a deletion cost from the unacked messages its
// worker holds, so the ReplicaSet removes idle workers first; a busy one that must go anyway
// finishes or hands back its batch within the grace period (the worker drains on SIGTERM).
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { WorkerPool } from '../../crds/generated/types.ts';
import { canonicalJson } from '../modelrun/statusThrottle.ts';
import { POD_DELETION_COST_ANNOTATION, poolDeployment } from '../planning/workerPoolDeployment.ts';
import { type FreshQueueCounts, poolDepth } from '../planning/workerPoolDepth.ts';
import { poolQueues } from '../planning/workerPoolQueues.ts';
import {
  type Recommendation,
  type ReplicaBounds,
  clampReplicas,
  decideAutoscale,
} from '../planning/workerPoolScaling.ts';
import {
  type PoolDepth,
  type WorkerPoolObservation,
  countPods,
  nextWorkerPoolStatus,
} from '../planning/workerPoolStatus.ts';
import type { WorkerPoolPorts } from './workerPoolPorts.ts';

export interface ReconcileResult {
  requeueAfterMs?: number;
}

/** How often a pool without autoscaling refreshes the depth in its status. */
const DEFAULT_POLL_SECONDS = 5;
const COST_POLL_MS = 50;

/** What this process remembers of a pool between reconciles (rebuilt after a restart). */
interface PoolMemory {
  uid: string;
  /** The autoscaler's recommendations within the cooldown. */
  window: Recommendation[] | undefined;
  /** The Deployment as last applied, and its generation then. */
  applied: { json: string; generation: number; replicas: number } | undefined;
  /**
   * The status last written, and as JSON. The next status builds on it rather than on the
   * cache, which may not show it yet: a reconcile right after a scale would otherwise put the
   * previous scale's time and reason back.
   */
  written: { status: NonNullable<WorkerPool['status']>; json: string } | undefined;
  /**
   * The worker count status last reported. A change is reported against it, not against the
   * Deployment, so a status write that fails after the Deployment was scaled still reports the
   * change (reason, time, Event) on the next reconcile instead of losing it.
   */
  reported: number | undefined;
  depthProblem: string | undefined;
}

const done = (): ReconcileResult => ({});
const requeueAfter = (ms: number): ReconcileResult => ({ requeueAfterMs: Math.max(1, Math.ceil(ms)) });

function isOwnedBy(deployment: V1Deployment, pool: WorkerPool): boolean {
  return (deployment.metadata?.ownerReferences ?? []).some(
    (owner) => owner.controller === true && owner.uid === pool.metadata?.uid,
  );
}

function isActive(pod: V1Pod): boolean {
  return (
    !pod.metadata?.deletionTimestamp && pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed'
  );
}

export class WorkerPoolController {
  readonly #ports: WorkerPoolPorts;
  readonly #memory = new Map<string, PoolMemory>();
  /** Why the passive declares failed last, for every pool (they share one connection). */
  #freshCountsProblem: string | undefined;

  constructor(ports: WorkerPoolPorts) {
    this.#ports = ports;
  }

  async reconcile(key: string, log: Logger = this.#ports.log): Promise<ReconcileResult> {
    const [namespace, name] = key.split('/') as [string, string];
    const pool = this.#ports.pools.get(namespace, name);
    if (!pool) {
      this.#memory.delete(key);
      this.#ports.metrics.forget(namespace, name);
      return done();
    }
    // Deleting: the garbage collector removes the Deployment (owner reference); nothing to clean.
    if (pool.metadata?.deletionTimestamp) return done();
    const memory = this.#memoryOf(key, pool);
    const now = this.#ports.clock();
    const pollMs = (pool.spec.autoscaling?.pollIntervalSeconds ?? DEFAULT_POLL_SECONDS) * 1000;
    const queues = poolQueues(pool.spec.queues);
    const pods = this.#ports.pods.list(namespace, name);
    const depth = await this.#readDepth(queues, memory, log);
    // The cache holds only labelled Deployments: before creating one, make sure the name is free.
    const cached =
      this.#ports.deployments.get(namespace, name) ??
      (memory.applied ? undefined : await this.#ports.deployments.read(namespace, name));
    const observation: WorkerPoolObservation = {
      queues,
      pods: countPods(pods),
      depth: depth.depth,
      autoscaled: pool.spec.autoscaling !== undefined,
      replicas: 0,
      previousReplicas: 0,
      explanation: 'spec.replicas',
      limitedBy: undefined,
      heldUntil: undefined,
    };
    if (depth.problem !== undefined) observation.depthProblem = depth.problem;

    if (cached && !isOwnedBy(cached, pool)) {
      observation.deploymentNameTaken = true;
      await this.#writeStatus(pool, observation, memory, now, log);
      return requeueAfter(pollMs);
    }
    const current = this.#currentReplicas(cached, memory);
    observation.previousReplicas = memory.reported ?? current;
    const bounds: ReplicaBounds = { min: pool.spec.minReplicas ?? 0, max: pool.spec.maxReplicas ?? 10 };
    const autoscaling = pool.spec.autoscaling;
    let replicas: number;
    if (autoscaling) {
      const decision = decideAutoscale({
        bounds,
        settings: {
          targetMessagesPerReplica: autoscaling.targetMessagesPerReplica ?? 5,
          activationThreshold: autoscaling.activationThreshold ?? 0,
          cooldownMs: Math.max(
            (autoscaling.cooldownSeconds ?? 300) * 1000,
            this.#ports.settings.minCooldownMs,
          ),
        },
        depth: depth.depth && { ready: depth.depth.countedReady, unacked: depth.depth.unacked },
        current,
        window: memory.window,
        nowMs: now.getTime(),
      });
      if (depth.depth) memory.window = decision.window;
      replicas = decision.replicas;
      observation.explanation = decision.explanation;
      observation.limitedBy = decision.limitedBy;
      if (decision.heldUntilMs !== undefined) observation.heldUntil = new Date(decision.heldUntilMs);
    } else {
      replicas = clampReplicas(pool.spec.replicas ?? 1, bounds);
    }

    if (cached && replicas < current) {
      const busy = await this.#markIdleForRemoval(pool, pods, log);
      // The autoscaler never stops a busy worker: it removes idle ones only, and waits for the
      // in-flight counts when it cannot read them. A person's kubectl scale is obeyed (the
      // workers that go still finish or hand back their batches within the grace period).
      if (autoscaling && busy === undefined) replicas = current;
      else if (autoscaling && busy !== undefined && busy > replicas) {
        observation.busyHeld = Math.min(current, busy, bounds.max);
        replicas = observation.busyHeld;
      }
    }
    observation.replicas = replicas;
    await this.#applyDeployment(pool, queues, replicas, cached, memory, log);
    const next = await this.#writeStatus(pool, observation, memory, now, log);
    if (next.scaleReason) {
      this.#ports.metrics.scaled(pool, next.scaleReason);
      log.info(
        {
          from: observation.previousReplicas,
          to: replicas,
          reason: next.scaleReason,
          depth: next.status.queueDepth,
        },
        'workers scaled',
      );
    }
    this.#ports.metrics.observed(pool, {
      ready: depth.depth?.ready,
      unacked: depth.depth?.unacked,
      desired: replicas,
      readyReplicas: observation.pods.ready,
    });
    return requeueAfter(pollMs);
  }

  #memoryOf(key: string, pool: WorkerPool): PoolMemory {
    const uid = pool.metadata?.uid ?? '';
    let memory = this.#memory.get(key);
    if (!memory || memory.uid !== uid) {
      memory = {
        uid,
        window: undefined,
        applied: undefined,
        written: undefined,
        reported: undefined,
        depthProblem: undefined,
      };
      this.#memory.set(key, memory);
    }
    return memory;
  }

  /** The Deployment's replicas: as last applied, unless the cache shows a newer generation. */
  #currentReplicas(cached: V1Deployment | undefined, memory: PoolMemory): number {
    const applied = memory.applied;
    if (applied && (cached?.metadata?.generation ?? 0) <= applied.generation) return applied.replicas;
    return cached?.spec?.replicas ?? 0;
  }

  async #readDepth(
    queues: readonly string[],
    memory: PoolMemory,
    log: Logger,
  ): Promise<{ depth?: PoolDepth; problem?: string }> {
    const { broker, settings } = this.#ports;
    let result: { depth?: PoolDepth; problem?: string };
    if (!broker) {
      result = { problem: 'the operator has no RabbitMQ management API URL (RABBITMQ_MANAGEMENT_URL)' };
    } else {
      // Both at once: the passive declares see a new backlog now, the management API the unacked.
      const [stats, fresh] = await Promise.allSettled([
        broker.queues(settings.statsMaxAgeMs),
        this.#readFreshCounts(queues, log),
      ]);
      result =
        stats.status === 'fulfilled'
          ? { depth: poolDepth(queues, stats.value, fresh.status === 'fulfilled' ? fresh.value : undefined) }
          : { problem: (stats.reason as Error).message };
    }
    if (result.problem !== memory.depthProblem) {
      if (result.problem)
        log.warn({ err: result.problem }, 'cannot read the queue depth; holding the worker count');
      else if (memory.depthProblem) log.info('queue depth readable again');
      memory.depthProblem = result.problem;
    }
    return result;
  }

  /**
   * The passive declares, or undefined when they cannot be made: the management API's figures
   * then stand alone. Logged when that starts and ends, not on every poll (the connection is
   * shared by every pool).
   */
  async #readFreshCounts(
    queues: readonly string[],
    log: Logger,
  ): Promise<ReadonlyMap<string, FreshQueueCounts | null> | undefined> {
    const reader = this.#ports.freshCounts;
    if (!reader) return undefined;
    try {
      const counts = await reader.read(queues);
      if (this.#freshCountsProblem !== undefined) {
        log.info('passive queue declares work again: ready messages are read as they are');
        this.#freshCountsProblem = undefined;
      }
      return counts;
    } catch (error) {
      if (this.#freshCountsProblem === undefined) {
        log.warn(
          { err: (error as Error).message },
          "cannot declare the pools' queues passively; the management API's figures alone (seconds late)",
        );
      }
      this.#freshCountsProblem = (error as Error).message;
      return undefined;
    }
  }

  /**
   * Marks every pod with its worker's unacked messages as its deletion cost and waits until the
   * cache shows the marks, so the ReplicaSet removes idle workers first. Returns how many
   * workers hold messages, or undefined when that cannot be read.
   */
  async #markIdleForRemoval(
    pool: WorkerPool,
    pods: readonly V1Pod[],
    log: Logger,
  ): Promise<number | undefined> {
    const { broker, settings } = this.#ports;
    if (!broker) return undefined;
    let unacked: ReadonlyMap<string, number>;
    try {
      unacked = await broker.unackedByConnection(settings.statsMaxAgeMs);
    } catch (error) {
      log.warn({ err: (error as Error).message }, "cannot read the workers' unacked messages");
      return undefined;
    }
    const namespace = pool.metadata?.namespace ?? '';
    const costs = new Map<string, string>();
    let changed = 0;
    for (const pod of pods.filter(isActive)) {
      const podName = pod.metadata?.name ?? '';
      const cost = String(unacked.get(podName) ?? 0);
      costs.set(podName, cost);
      if (pod.metadata?.annotations?.[POD_DELETION_COST_ANNOTATION] !== cost) {
        await this.#ports.pods.annotate(namespace, podName, POD_DELETION_COST_ANNOTATION, cost);
        changed += 1;
      }
    }
    const settled = () =>
      this.#ports.pods
        .list(namespace, pool.metadata?.name ?? '')
        .every(
          (pod) =>
            !costs.has(pod.metadata?.name ?? '') ||
            pod.metadata?.annotations?.[POD_DELETION_COST_ANNOTATION] === costs.get(pod.metadata?.name ?? ''),
        );
    const deadline = this.#ports.clock().getTime() + settings.deletionCostSettleMs;
    while (!settled() && this.#ports.clock().getTime() < deadline) await this.#ports.sleep(COST_POLL_MS);
    if (changed > 0)
      log.info({ costs: Object.fromEntries(costs) }, 'pod deletion costs set: idle workers go first');
    return [...costs.values()].filter((cost) => cost !== '0').length;
  }

  async #applyDeployment(
    pool: WorkerPool,
    queues: readonly string[],
    replicas: number,
    cached: V1Deployment | undefined,
    memory: PoolMemory,
    log: Logger,
  ): Promise<void> {
    const deployment = poolDeployment(pool, queues, replicas, this.#ports.settings.worker);
    const json = canonicalJson(deployment);
    const applied = memory.applied;
    // Unchanged since our last apply, and nobody else has changed it since (generation).
    if (cached && applied?.json === json && (cached.metadata?.generation ?? 0) <= applied.generation) return;
    const stored = await this.#ports.deployments.apply(deployment);
    memory.applied = { json, generation: stored.metadata?.generation ?? 0, replicas };
    log.debug({ replicas, generation: stored.metadata?.generation }, 'deployment applied');
  }

  async #writeStatus(
    pool: WorkerPool,
    observation: WorkerPoolObservation,
    memory: PoolMemory,
    now: Date,
    log: Logger,
  ): Promise<ReturnType<typeof nextWorkerPoolStatus>> {
    const known = memory.written ? { ...pool, status: memory.written.status } : pool;
    const next = nextWorkerPoolStatus(known, observation, now);
    const json = canonicalJson(next.status);
    if (json === canonicalJson(pool.status ?? {}) || json === memory.written?.json) {
      memory.reported = observation.replicas;
      return next;
    }
    await this.#ports.pools.applyStatus(pool, next.status);
    memory.written = { status: next.status, json };
    memory.reported = observation.replicas;
    log.debug({ status: next.status }, 'status written');
    // Only with a write: a cache that does not show our last write yet would repeat them.
    for (const event of next.events) this.#ports.events.record(pool, event.type, event.reason, event.note);
    return next;
  }
}
