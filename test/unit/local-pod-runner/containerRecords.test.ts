import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { V1ContainerStatus } from '@kubernetes/client-node';
import {
  hasRun,
  pidOfContainerID,
  processContainerID,
  recoverContainerRecords,
} from '../../../devtools/local-pod-runner/containerRecords.ts';

const NOW = '2024-10-01T00:10:00Z';
const started = new Date('2024-10-01T00:00:00Z');
const finished = new Date('2024-10-01T00:05:00Z');

function status(overrides: Partial<V1ContainerStatus>): V1ContainerStatus {
  return { name: 'a', image: 'busybox', imageID: '', ready: false, restartCount: 0, ...overrides };
}

test('process container IDs carry the pid', () => {
  assert.equal(processContainerID(4242), 'process://4242');
  assert.equal(pidOfContainerID('process://4242'), 4242);
  assert.equal(pidOfContainerID('containerd://abc'), undefined);
  assert.equal(pidOfContainerID(undefined), undefined);
});

test('a container without status starts fresh', () => {
  const [record] = recoverContainerRecords([{ name: 'a', image: 'busybox' }], [], 'PodInitializing', NOW);
  assert.deepEqual(record, {
    name: 'a',
    image: 'busybox',
    state: { kind: 'waiting', reason: 'PodInitializing' },
    restartCount: 0,
  });
  assert.equal(hasRun(record!), false);
});

test('a container reported running has no process any more: its outcome is unknown', () => {
  const [record] = recoverContainerRecords(
    [{ name: 'a', image: 'busybox' }],
    [status({ restartCount: 2, containerID: 'process://9', state: { running: { startedAt: started } } })],
    'ContainerCreating',
    NOW,
  );
  assert.deepEqual(record, {
    name: 'a',
    image: 'busybox',
    restartCount: 2,
    containerID: 'process://9',
    state: {
      kind: 'terminated',
      exitCode: 137,
      reason: 'ContainerStatusUnknown',
      message: 'The container could not be located when the local pod runner restarted',
      startedAt: '2024-10-01T00:00:00Z',
      finishedAt: NOW,
    },
  });
  assert.equal(hasRun(record!), true);
});

test('a terminated container keeps its outcome; a waiting one keeps its last state', () => {
  const records = recoverContainerRecords(
    [
      { name: 'done', image: 'busybox' },
      { name: 'crashing', image: 'busybox' },
    ],
    [
      status({
        name: 'done',
        state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: started, finishedAt: finished } },
      }),
      status({
        name: 'crashing',
        restartCount: 3,
        state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off' } },
        lastState: { terminated: { exitCode: 1, startedAt: started, finishedAt: finished } },
      }),
    ],
    'ContainerCreating',
    NOW,
  );
  assert.deepEqual(records[0]?.state, {
    kind: 'terminated',
    exitCode: 0,
    reason: 'Completed',
    startedAt: '2024-10-01T00:00:00Z',
    finishedAt: '2024-10-01T00:05:00Z',
  });
  assert.deepEqual(records[1]?.state, { kind: 'waiting', reason: 'CrashLoopBackOff', message: 'back-off' });
  assert.deepEqual(records[1]?.lastState, {
    kind: 'terminated',
    exitCode: 1,
    reason: 'Error',
    startedAt: '2024-10-01T00:00:00Z',
    finishedAt: '2024-10-01T00:05:00Z',
  });
  assert.equal(records[1]?.restartCount, 3);
  assert.equal(hasRun(records[1]!), true);
});
