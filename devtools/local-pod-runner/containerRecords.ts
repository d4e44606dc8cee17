// What the runner knows about each container of a pod, as plain data. The pod's
// status is computed from these records (podStatus.ts). A runner that starts
// again rebuilds them from the status it reported before, so restart counts and
// finished containers survive its own restarts.
import type { V1ContainerState, V1ContainerStatus } from '@kubernetes/client-node';
import { wholeSecondTime } from '../../adapters/kube/index.ts';

export interface WaitingState {
  kind: 'waiting';
  reason: string;
  message?: string;
}

export interface RunningState {
  kind: 'running';
  startedAt: string;
}

export interface TerminatedState {
  kind: 'terminated';
  exitCode: number;
  reason: string;
  message?: string;
  signal?: number;
  startedAt?: string;
  finishedAt: string;
}

export type ContainerState = WaitingState | RunningState | TerminatedState;

export interface ContainerRecord {
  name: string;
  image: string;
  state: ContainerState;
  lastState?: TerminatedState;
  restartCount: number;
  /** `process://<pid>` of the current or last process. */
  containerID?: string;
}

/** True once a process was started for this container (now or in an earlier life). */
export function hasRun(record: ContainerRecord): boolean {
  return record.state.kind !== 'waiting' || record.lastState !== undefined;
}

export function isSucceeded(record: ContainerRecord): boolean {
  return record.state.kind === 'terminated' && record.state.exitCode === 0;
}

export function processContainerID(pid: number): string {
  return `process://${pid}`;
}

/** The pid in a `process://<pid>` container ID. */
export function pidOfContainerID(containerID: string | undefined): number | undefined {
  const match = /^process:\/\/(\d+)$/.exec(containerID ?? '');
  return match ? Number(match[1]) : undefined;
}

function terminatedFrom(state: V1ContainerState['terminated']): TerminatedState | undefined {
  if (!state) return undefined;
  return {
    kind: 'terminated',
    exitCode: state.exitCode,
    reason: state.reason ?? (state.exitCode === 0 ? 'Completed' : 'Error'),
    ...(state.message ? { message: state.message } : {}),
    ...(state.signal ? { signal: state.signal } : {}),
    ...(state.startedAt ? { startedAt: wholeSecondTime(state.startedAt) } : {}),
    finishedAt: wholeSecondTime(state.finishedAt ?? new Date(0)),
  };
}

/**
 * Records for a pod's containers, rebuilt from the statuses reported earlier. A
 * container reported running has no process any more (the runner that started it
 * is gone and its processes were stopped), so it counts as terminated with an
 * unknown outcome, the way the kubelet reports a container it cannot find.
 */
export function recoverContainerRecords(
  containers: readonly { name: string; image?: string }[],
  statuses: readonly V1ContainerStatus[] | undefined,
  initialWaitingReason: string,
  now: string,
): ContainerRecord[] {
  return containers.map((container) => {
    const image = container.image ?? '';
    const status = statuses?.find((candidate) => candidate.name === container.name);
    if (!status)
      return {
        name: container.name,
        image,
        state: { kind: 'waiting', reason: initialWaitingReason },
        restartCount: 0,
      };
    const lastState = terminatedFrom(status.lastState?.terminated);
    const base = {
      name: container.name,
      image,
      restartCount: status.restartCount ?? 0,
      ...(lastState ? { lastState } : {}),
      ...(status.containerID ? { containerID: status.containerID } : {}),
    };
    const terminated = terminatedFrom(status.state?.terminated);
    if (terminated) return { ...base, state: terminated };
    if (status.state?.running) {
      return {
        ...base,
        state: {
          kind: 'terminated',
          exitCode: 137,
          reason: 'ContainerStatusUnknown',
          message: 'The container could not be located when the local pod runner restarted',
          ...(status.state.running.startedAt
            ? { startedAt: wholeSecondTime(status.state.running.startedAt) }
            : {}),
          finishedAt: now,
        },
      };
    }
    return {
      ...base,
      state: {
        kind: 'waiting',
        reason: status.state?.waiting?.reason ?? initialWaitingReason,
        ...(status.state?.waiting?.message ? { message: status.state.waiting.message } : {}),
      },
    };
  });
}
