// A pod's status, computed from the runner's container records the way the
// kubelet computes it (phase rules of its getPhase, the standard conditions),
// so Jobs, ReplicaSets and kubectl see what they would see on a real node.
// Pure: the caller passes the previous conditions and the time.
import type { ContainerRecord, ContainerState, TerminatedState } from './containerRecords.ts';
import { isSucceeded } from './containerRecords.ts';
import type { RestartPolicy } from './restartPolicy.ts';

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed';
type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface PodCondition {
  type: string;
  status: ConditionStatus;
  reason?: string;
  message?: string;
  lastTransitionTime: string;
}

export interface PreviousCondition {
  type: string;
  status: string;
  lastTransitionTime?: string;
}

export interface PodStatusInput {
  restartPolicy: RestartPolicy;
  initContainers: readonly ContainerRecord[];
  containers: readonly ContainerRecord[];
  readinessGates: readonly string[];
  previousConditions: readonly PreviousCondition[];
  /** Pod IP and host IP: every pod here shares the host's loopback address. */
  ip: string;
  startTime: string;
  /** The pod is being deleted and its processes are stopped: no container starts again. */
  podIsTerminal: boolean;
  now: string;
}

export interface ContainerStatusJson {
  name: string;
  image: string;
  imageID: string;
  containerID?: string;
  ready: boolean;
  started: boolean;
  restartCount: number;
  state: Record<string, unknown>;
  lastState: Record<string, unknown>;
}

export interface ComputedPodStatus {
  phase: PodPhase;
  conditions: PodCondition[];
  hostIP: string;
  hostIPs: { ip: string }[];
  podIP: string;
  podIPs: { ip: string }[];
  startTime: string;
  initContainerStatuses: ContainerStatusJson[];
  containerStatuses: ContainerStatusJson[];
}

export function isTerminalPhase(phase: string | undefined): boolean {
  return phase === 'Succeeded' || phase === 'Failed';
}

/** The kubelet's phase rules (pkg/kubelet getPhase), for containers without probes or sidecars. */
export function podPhase(
  input: Pick<PodStatusInput, 'restartPolicy' | 'initContainers' | 'containers' | 'podIsTerminal'>,
): PodPhase {
  const { restartPolicy, initContainers, containers } = input;
  if (input.podIsTerminal) {
    return [...initContainers, ...containers].every(isSucceeded) ? 'Succeeded' : 'Failed';
  }
  let pendingInitialization = 0;
  let failedInitialization = 0;
  for (const record of initContainers) {
    if (isSucceeded(record)) continue;
    const failed =
      (record.state.kind === 'terminated' && record.state.exitCode !== 0) ||
      (record.state.kind === 'waiting' && record.lastState !== undefined && record.lastState.exitCode !== 0);
    if (failed) failedInitialization++;
    else pendingInitialization++;
  }
  if (failedInitialization > 0 && restartPolicy === 'Never') return 'Failed';
  if (pendingInitialization > 0 || failedInitialization > 0) return 'Pending';

  let waiting = 0;
  let running = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const record of containers) {
    if (record.state.kind === 'running') running++;
    else if (record.state.kind === 'terminated') {
      stopped++;
      if (record.state.exitCode === 0) succeeded++;
    } else if (record.lastState) stopped++;
    else waiting++;
  }
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    if (restartPolicy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (restartPolicy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

/** Keeps lastTransitionTime unless the status flips. */
export function withTransitionTime(
  condition: Omit<PodCondition, 'lastTransitionTime'>,
  previous: readonly PreviousCondition[],
  now: string,
): PodCondition {
  const before = previous.find((candidate) => candidate.type === condition.type);
  const lastTransitionTime =
    before && before.status === condition.status && before.lastTransitionTime
      ? before.lastTransitionTime
      : now;
  return { ...condition, lastTransitionTime };
}

function stateJson(state: ContainerState): Record<string, unknown> {
  switch (state.kind) {
    case 'waiting':
      return { waiting: { reason: state.reason, ...(state.message ? { message: state.message } : {}) } };
    case 'running':
      return { running: { startedAt: state.startedAt } };
    case 'terminated':
      return { terminated: terminatedJson(state) };
  }
}

function terminatedJson(state: TerminatedState): Record<string, unknown> {
  return {
    exitCode: state.exitCode,
    reason: state.reason,
    ...(state.message ? { message: state.message } : {}),
    ...(state.signal ? { signal: state.signal } : {}),
    ...(state.startedAt ? { startedAt: state.startedAt } : {}),
    finishedAt: state.finishedAt,
  };
}

/** Without probes, a container is ready exactly while its process runs. */
function containerStatusJson(record: ContainerRecord): ContainerStatusJson {
  const running = record.state.kind === 'running';
  return {
    name: record.name,
    image: record.image,
    imageID: '',
    ...(record.containerID ? { containerID: record.containerID } : {}),
    ready: running,
    started: running,
    restartCount: record.restartCount,
    state: stateJson(record.state),
    lastState: record.lastState ? { terminated: terminatedJson(record.lastState) } : {},
  };
}

function names(records: readonly ContainerRecord[]): string {
  return `[${records.map((record) => record.name).join(' ')}]`;
}

export function computePodStatus(input: PodStatusInput): ComputedPodStatus {
  const phase = podPhase(input);
  const terminal = isTerminalPhase(phase);
  const at = (condition: Omit<PodCondition, 'lastTransitionTime'>) =>
    withTransitionTime(condition, input.previousConditions, input.now);

  const incompleteInit = input.initContainers.filter((record) => !isSucceeded(record));
  const initialized = incompleteInit.length === 0;
  const unready = input.containers.filter((record) => record.state.kind !== 'running');
  const containersReady = unready.length === 0 && input.containers.length > 0;
  const containersReadyCondition: Omit<PodCondition, 'lastTransitionTime'> = containersReady
    ? { type: 'ContainersReady', status: 'True' }
    : phase === 'Succeeded'
      ? { type: 'ContainersReady', status: 'False', reason: 'PodCompleted' }
      : {
          type: 'ContainersReady',
          status: 'False',
          reason: 'ContainersNotReady',
          message: `containers with unready status: ${names(unready)}`,
        };
  const gatesMissing = input.readinessGates.filter(
    (gate) =>
      !input.previousConditions.some((condition) => condition.type === gate && condition.status === 'True'),
  );
  const readyCondition: Omit<PodCondition, 'lastTransitionTime'> =
    containersReadyCondition.status !== 'True'
      ? { ...containersReadyCondition, type: 'Ready' }
      : gatesMissing.length > 0
        ? {
            type: 'Ready',
            status: 'False',
            reason: 'ReadinessGatesNotReady',
            message: `corresponding condition of pod readiness gate "${gatesMissing[0]}" is not True`,
          }
        : { type: 'Ready', status: 'True' };

  return {
    phase,
    conditions: [
      at({ type: 'PodReadyToStartContainers', status: terminal ? 'False' : 'True' }),
      at(
        initialized
          ? { type: 'Initialized', status: 'True' }
          : {
              type: 'Initialized',
              status: 'False',
              reason: 'ContainersNotInitialized',
              message: `containers with incomplete status: ${names(incompleteInit)}`,
            },
      ),
      at(containersReadyCondition),
      at(readyCondition),
    ],
    hostIP: input.ip,
    hostIPs: [{ ip: input.ip }],
    podIP: input.ip,
    podIPs: [{ ip: input.ip }],
    startTime: input.startTime,
    initContainerStatuses: input.initContainers.map(containerStatusJson),
    containerStatuses: input.containers.map(containerStatusJson),
  };
}
