// nextWorkerPoolStatus: what a WorkerPool's status should say, from what the controller saw
// (the pool's pods, the depth of its queues) and what it decided (the worker count and why).
// Pure: the status and the Events a person should see for what changed come out.
import type { V1Pod } from '@kubernetes/client-node';
import type { Condition, WorkerPool, WorkerPoolStatus } from '../../crds/generated/types.ts';
import { type ConditionUpdate, findCondition, removeCondition, setCondition } from './conditions.ts';
import { poolSelector } from './workerPoolDeployment.ts';
import { type ScaleReason, scaleReason as reasonOfChange } from './workerPoolScaling.ts';

export interface PodCounts {
  /** Not terminating and not finished: the scale subresource's status.replicas. */
  existing: number;
  ready: number;
  /** Existing and not ready: Pending or starting. */
  starting: number;
  /** Deleted, still finishing or handing back their batches. */
  terminating: number;
  /** Why the starting ones wait, e.g. { Unschedulable: 2, CreateContainerConfigError: 1 }. */
  waiting: Record<string, number>;
}

function isReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some(
    (condition) => condition.type === 'Ready' && condition.status === 'True',
  )
    ? true
    : false;
}

function waitingReason(pod: V1Pod): string {
  const container = pod.status?.containerStatuses?.find((status) => status.state?.waiting?.reason);
  if (container?.state?.waiting?.reason) return container.state.waiting.reason;
  if (!pod.spec?.nodeName) return 'Unscheduled';
  return pod.status?.phase ?? 'Pending';
}

export function countPods(pods: readonly V1Pod[]): PodCounts {
  const counts: PodCounts = { existing: 0, ready: 0, starting: 0, terminating: 0, waiting: {} };
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp) {
      counts.terminating += 1;
      continue;
    }
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') continue;
    counts.existing += 1;
    if (isReady(pod)) {
      counts.ready += 1;
      continue;
    }
    counts.starting += 1;
    const reason = waitingReason(pod);
    counts.waiting[reason] = (counts.waiting[reason] ?? 0) + 1;
  }
  return counts;
}

/** The depth of a pool's queues as the broker reported it (built by workerPoolDepth.ts). */
export interface PoolDepth {
  /** Ready messages now (passive declares; the management API's when those cannot be made). */
  ready: number;
  /** The ready messages the autoscaler counts: at least `ready`, see workerPoolDepth.ts. */
  countedReady: number;
  /** Delivered, not yet acknowledged: from the management API (a passive declare has no count). */
  unacked: number;
  consumers: number;
  /** Queues of the pool the broker does not have. */
  missingQueues: string[];
}

export interface WorkerPoolObservation {
  queues: readonly string[];
  pods: PodCounts;
  /** undefined when the depth could not be read; `depthProblem` says why. */
  depth: PoolDepth | undefined;
  depthProblem?: string;
  autoscaled: boolean;
  /** The workers the operator wants, and the Deployment's count before this decision. */
  replicas: number;
  previousReplicas: number;
  explanation: string;
  limitedBy: 'maxReplicas' | 'minReplicas' | undefined;
  heldUntil: Date | undefined;
  /** A scale-down stopped at this many workers because they hold messages (idle ones go first). */
  busyHeld?: number;
  /** A Deployment of the pool's name that the pool does not own. */
  deploymentNameTaken?: boolean;
}

export interface PoolEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  note: string;
}

export interface NextPoolStatus {
  status: WorkerPoolStatus;
  events: PoolEvent[];
  /** Set when the worker count changed. */
  scaleReason: ScaleReason | undefined;
}

function iso(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function describeWaiting(waiting: Record<string, number>): string {
  return Object.entries(waiting)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([reason, count]) => `${count} ${reason}`)
    .join(', ');
}

function readyCondition(observed: WorkerPoolObservation, name: string): ConditionUpdate {
  const { pods, replicas } = observed;
  if (observed.deploymentNameTaken) {
    return {
      type: 'Ready',
      status: 'False',
      reason: 'DeploymentNameTaken',
      message: `a Deployment named ${name} that this pool does not own exists: delete it, or create the pool under another name`,
    };
  }
  if (replicas === 0) {
    return {
      type: 'Ready',
      status: 'True',
      reason: 'NoWorkersWanted',
      message: observed.autoscaled
        ? 'no workers: nothing waits on the queues; the pool wakes when a message arrives'
        : 'no workers: spec.replicas is 0',
    };
  }
  if (pods.ready >= replicas) {
    return {
      type: 'Ready',
      status: 'True',
      reason: 'WorkersReady',
      message: `${pods.ready} of ${replicas} workers ready`,
    };
  }
  const waiting = describeWaiting(pods.waiting);
  return {
    type: 'Ready',
    status: 'False',
    reason: 'WorkersStarting',
    message: `${pods.ready} of ${replicas} workers ready, ${pods.starting} starting${waiting ? ` (${waiting})` : ''}`,
  };
}

function scalingActiveCondition(observed: WorkerPoolObservation, specReplicas: number): ConditionUpdate {
  if (!observed.autoscaled) {
    return {
      type: 'ScalingActive',
      status: 'False',
      reason: 'AutoscalingOff',
      message: `spec.autoscaling is not set: the pool runs spec.replicas (${specReplicas}) workers; change it with kubectl scale`,
    };
  }
  if (!observed.depth) {
    return {
      type: 'ScalingActive',
      status: 'False',
      reason: 'DepthUnavailable',
      message: `cannot read the queue depth (${observed.depthProblem ?? 'unknown'}); holding ${observed.replicas} workers until it can`,
    };
  }
  const held =
    observed.busyHeld !== undefined
      ? `; holding ${observed.busyHeld} workers while they work their batches (only idle workers are removed)`
      : observed.heldUntil
        ? `; holding ${observed.replicas} workers for the cooldown, until ${iso(observed.heldUntil)} at the earliest`
        : '';
  return {
    type: 'ScalingActive',
    status: 'True',
    reason: 'DepthRead',
    message: `${observed.explanation}${held}`,
  };
}

function scalingLimitedCondition(observed: WorkerPoolObservation, pool: WorkerPool): ConditionUpdate {
  if (observed.limitedBy === 'maxReplicas') {
    return {
      type: 'ScalingLimited',
      status: 'True',
      reason: 'TooManyReplicas',
      message: `the depth asks for more workers than maxReplicas (${pool.spec.maxReplicas ?? 10})`,
    };
  }
  if (observed.limitedBy === 'minReplicas') {
    return {
      type: 'ScalingLimited',
      status: 'True',
      reason: 'TooFewReplicas',
      message: `the depth asks for fewer workers than minReplicas (${pool.spec.minReplicas ?? 0})`,
    };
  }
  return {
    type: 'ScalingLimited',
    status: 'False',
    reason: 'DesiredWithinRange',
    message: 'the depth asks for a count within [minReplicas, maxReplicas]',
  };
}

function queuesFoundCondition(depth: PoolDepth): ConditionUpdate {
  if (depth.missingQueues.length > 0) {
    const queues = depth.missingQueues.join(', ');
    return {
      type: 'QueuesFound',
      status: 'False',
      reason: 'QueueNotFound',
      message: `queue ${queues} does not exist on the broker: nothing has been sent to it yet, or the name (or the selector's chain) is wrong; it is counted as empty, and workers declare it when they start`,
    };
  }
  return {
    type: 'QueuesFound',
    status: 'True',
    reason: 'QueuesExist',
    message: 'every queue of the pool exists',
  };
}

function flippedTo(
  before: readonly Condition[] | undefined,
  after: readonly Condition[],
  type: string,
  reason: string,
) {
  const next = findCondition(after, type);
  return next?.reason === reason && findCondition(before, type)?.reason !== reason ? next : undefined;
}

export function nextWorkerPoolStatus(
  pool: WorkerPool,
  observed: WorkerPoolObservation,
  now: Date,
): NextPoolStatus {
  const scaleReason = reasonOfChange(observed.previousReplicas, observed.replicas, observed.autoscaled);
  const previous = pool.status ?? {};
  const generation = pool.metadata?.generation ?? 0;
  const name = pool.metadata?.name ?? '';
  let conditions = setCondition(previous.conditions, readyCondition(observed, name), generation, now);
  conditions = setCondition(
    conditions,
    scalingActiveCondition(observed, pool.spec.replicas ?? 1),
    generation,
    now,
  );
  conditions = observed.autoscaled
    ? setCondition(conditions, scalingLimitedCondition(observed, pool), generation, now)
    : removeCondition(conditions, 'ScalingLimited');
  if (observed.depth)
    conditions = setCondition(conditions, queuesFoundCondition(observed.depth), generation, now);

  const status: WorkerPoolStatus = {
    observedGeneration: generation,
    queues: [...observed.queues],
    selector: poolSelector(name),
    replicas: observed.pods.existing,
    desiredReplicas: observed.replicas,
    readyReplicas: observed.pods.ready,
    startingReplicas: observed.pods.starting,
    terminatingReplicas: observed.pods.terminating,
    conditions,
  };
  const depth = observed.depth;
  if (depth) {
    status.queueDepth = {
      ready: depth.ready,
      unacked: depth.unacked,
      total: depth.countedReady + depth.unacked,
    };
    status.consumers = depth.consumers;
  } else {
    // Kept as last read: the ScalingActive condition says the figures are not current.
    if (previous.queueDepth) status.queueDepth = previous.queueDepth;
    if (previous.consumers !== undefined) status.consumers = previous.consumers;
  }

  const events: PoolEvent[] = [];
  if (scaleReason) {
    const message = `${observed.previousReplicas} → ${observed.replicas} workers: ${
      observed.autoscaled ? observed.explanation : 'spec.replicas'
    }`;
    status.lastScaleTime = iso(now);
    status.lastScaleReason = scaleReason;
    status.lastScaleMessage = message.slice(0, 1024);
    events.push({ type: 'Normal', reason: scaleReason, note: message });
  } else {
    if (previous.lastScaleTime) status.lastScaleTime = previous.lastScaleTime;
    if (previous.lastScaleReason) status.lastScaleReason = previous.lastScaleReason;
    if (previous.lastScaleMessage) status.lastScaleMessage = previous.lastScaleMessage;
  }
  for (const [type, reason] of [
    ['QueuesFound', 'QueueNotFound'],
    ['ScalingActive', 'DepthUnavailable'],
    ['Ready', 'DeploymentNameTaken'],
  ] as const) {
    const flipped = flippedTo(previous.conditions, conditions, type, reason);
    if (flipped) events.push({ type: 'Warning', reason, note: flipped.message });
  }

  const total = status.queueDepth ? `, depth ${status.queueDepth.total}` : '';
  status.message = `${observed.pods.ready} of ${observed.replicas} workers ready${total}`;
  return { status, events, scaleReason };
}
