import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerRecord, ContainerState } from '../../../devtools/local-pod-runner/containerRecords.ts';
import type { PodPhase, PodStatusInput } from '../../../devtools/local-pod-runner/podStatus.ts';
import {
  computePodStatus,
  podPhase,
  withTransitionTime,
} from '../../../devtools/local-pod-runner/podStatus.ts';
import type { RestartPolicy } from '../../../devtools/local-pod-runner/restartPolicy.ts';

const T0 = '2024-10-01T00:00:00Z';
const T1 = '2024-10-01T00:00:05Z';
const waiting: ContainerState = { kind: 'waiting', reason: 'ContainerCreating' };
const running: ContainerState = { kind: 'running', startedAt: T0 };
const exited = (exitCode: number): ContainerState => ({
  kind: 'terminated',
  exitCode,
  reason: exitCode === 0 ? 'Completed' : 'Error',
  startedAt: T0,
  finishedAt: T1,
});

function record(name: string, state: ContainerState, lastExit?: number): ContainerRecord {
  const last = lastExit === undefined ? undefined : exited(lastExit);
  return {
    name,
    image: 'busybox',
    state,
    restartCount: last ? 1 : 0,
    ...(last && last.kind === 'terminated' ? { lastState: last } : {}),
  };
}

function input(overrides: Partial<PodStatusInput>): PodStatusInput {
  return {
    restartPolicy: 'Always',
    initContainers: [],
    containers: [],
    readinessGates: [],
    previousConditions: [],
    ip: '127.0.0.1',
    startTime: T0,
    podIsTerminal: false,
    now: T1,
    ...overrides,
  };
}

// [case, restartPolicy, init containers, containers, podIsTerminal, phase]
const phaseCases: [string, RestartPolicy, ContainerRecord[], ContainerRecord[], boolean, PodPhase][] = [
  ['nothing started yet', 'Always', [], [record('a', waiting)], false, 'Pending'],
  ['one of two still waiting', 'Always', [], [record('a', running), record('b', waiting)], false, 'Pending'],
  ['all running', 'Always', [], [record('a', running), record('b', running)], false, 'Running'],
  ['Never: all exited 0', 'Never', [], [record('a', exited(0)), record('b', exited(0))], false, 'Succeeded'],
  ['Never: one failed', 'Never', [], [record('a', exited(0)), record('b', exited(3))], false, 'Failed'],
  [
    'Never: one failed, one running',
    'Never',
    [],
    [record('a', exited(3)), record('b', running)],
    false,
    'Running',
  ],
  ['OnFailure: all exited 0', 'OnFailure', [], [record('a', exited(0))], false, 'Succeeded'],
  ['OnFailure: failed, will restart', 'OnFailure', [], [record('a', exited(1))], false, 'Running'],
  ['Always: exited 0, will restart', 'Always', [], [record('a', exited(0))], false, 'Running'],
  ['Always: in back-off after a crash', 'Always', [], [record('a', waiting, 1)], false, 'Running'],
  ['init container running', 'Never', [record('i', running)], [record('a', waiting)], false, 'Pending'],
  [
    'init container failed, Never',
    'Never',
    [record('i', exited(1))],
    [record('a', waiting)],
    false,
    'Failed',
  ],
  [
    'init container failed, OnFailure',
    'OnFailure',
    [record('i', exited(1))],
    [record('a', waiting)],
    false,
    'Pending',
  ],
  [
    'init container in back-off, Never',
    'Never',
    [record('i', waiting, 2)],
    [record('a', waiting)],
    false,
    'Failed',
  ],
  ['init done, main running', 'Never', [record('i', exited(0))], [record('a', running)], false, 'Running'],
  [
    'deleted: all exited 0',
    'Always',
    [],
    [record('a', exited(0)), record('b', exited(0))],
    true,
    'Succeeded',
  ],
  ['deleted: one killed', 'Always', [], [record('a', exited(0)), record('b', exited(137))], true, 'Failed'],
  ['deleted: init failed', 'Always', [record('i', exited(1))], [record('a', exited(0))], true, 'Failed'],
];
for (const [name, restartPolicy, initContainers, containers, podIsTerminal, phase] of phaseCases) {
  test(`podPhase: ${name} → ${phase}`, () => {
    assert.equal(podPhase({ restartPolicy, initContainers, containers, podIsTerminal }), phase);
  });
}

function conditionsOf(status: ReturnType<typeof computePodStatus>): Record<string, string> {
  return Object.fromEntries(
    status.conditions.map((condition) => [
      condition.type,
      `${condition.status}${condition.reason ? `/${condition.reason}` : ''}`,
    ]),
  );
}

test('a running pod is ready and reports loopback addresses', () => {
  const status = computePodStatus(input({ containers: [record('a', running)] }));
  assert.equal(status.phase, 'Running');
  assert.deepEqual(conditionsOf(status), {
    PodReadyToStartContainers: 'True',
    Initialized: 'True',
    ContainersReady: 'True',
    Ready: 'True',
  });
  assert.deepEqual(
    [status.podIP, status.hostIP, status.podIPs, status.startTime],
    ['127.0.0.1', '127.0.0.1', [{ ip: '127.0.0.1' }], T0],
  );
  assert.deepEqual(status.containerStatuses, [
    {
      name: 'a',
      image: 'busybox',
      imageID: '',
      ready: true,
      started: true,
      restartCount: 0,
      state: { running: { startedAt: T0 } },
      lastState: {},
    },
  ]);
});

test('a pod waiting on init containers names them', () => {
  const status = computePodStatus(
    input({
      initContainers: [record('migrate', running)],
      containers: [record('a', { kind: 'waiting', reason: 'PodInitializing' })],
    }),
  );
  const initialized = status.conditions.find((condition) => condition.type === 'Initialized');
  assert.deepEqual(
    [initialized?.status, initialized?.reason, initialized?.message],
    ['False', 'ContainersNotInitialized', 'containers with incomplete status: [migrate]'],
  );
  assert.equal(conditionsOf(status).Ready, 'False/ContainersNotReady');
});

test('a succeeded pod reports PodCompleted and terminated statuses', () => {
  const status = computePodStatus(input({ restartPolicy: 'Never', containers: [record('a', exited(0))] }));
  assert.equal(status.phase, 'Succeeded');
  assert.deepEqual(conditionsOf(status), {
    PodReadyToStartContainers: 'False',
    Initialized: 'True',
    ContainersReady: 'False/PodCompleted',
    Ready: 'False/PodCompleted',
  });
  assert.deepEqual(status.containerStatuses[0]?.state, {
    terminated: { exitCode: 0, reason: 'Completed', startedAt: T0, finishedAt: T1 },
  });
  assert.equal(status.containerStatuses[0]?.ready, false);
});

test('a failed pod names the unready containers', () => {
  const status = computePodStatus(input({ restartPolicy: 'Never', containers: [record('a', exited(3))] }));
  const ready = status.conditions.find((condition) => condition.type === 'Ready');
  assert.deepEqual(
    [status.phase, ready?.reason, ready?.message],
    ['Failed', 'ContainersNotReady', 'containers with unready status: [a]'],
  );
});

test('a container in back-off shows its last exit and restart count', () => {
  const backOff: ContainerState = { kind: 'waiting', reason: 'CrashLoopBackOff', message: 'back-off 2s' };
  const status = computePodStatus(input({ containers: [record('a', backOff, 2)] }));
  assert.deepEqual(status.containerStatuses[0]?.state, {
    waiting: { reason: 'CrashLoopBackOff', message: 'back-off 2s' },
  });
  assert.deepEqual(status.containerStatuses[0]?.lastState, {
    terminated: { exitCode: 2, reason: 'Error', startedAt: T0, finishedAt: T1 },
  });
  assert.equal(status.containerStatuses[0]?.restartCount, 1);
});

test('readiness gates hold Ready back until their condition is True', () => {
  const base = input({ containers: [record('a', running)], readinessGates: ['example.com/gate'] });
  assert.equal(conditionsOf(computePodStatus(base)).Ready, 'False/ReadinessGatesNotReady');
  const opened = { ...base, previousConditions: [{ type: 'example.com/gate', status: 'True' }] };
  assert.equal(conditionsOf(computePodStatus(opened)).Ready, 'True');
});

test('lastTransitionTime moves only when the status flips', () => {
  const previous = [{ type: 'Ready', status: 'True', lastTransitionTime: T0 }];
  assert.equal(withTransitionTime({ type: 'Ready', status: 'True' }, previous, T1).lastTransitionTime, T0);
  assert.equal(withTransitionTime({ type: 'Ready', status: 'False' }, previous, T1).lastTransitionTime, T1);
  assert.equal(
    withTransitionTime({ type: 'Initialized', status: 'True' }, previous, T1).lastTransitionTime,
    T1,
  );
});
