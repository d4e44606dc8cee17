import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import {
  type WorkerPoolObservation,
  countPods,
  nextWorkerPoolStatus,
} from '../../../controllers/planning/workerPoolStatus.ts';
import type { WorkerPool } from '../../../crds/generated/types.ts';

const now = new Date('2026-03-01T12:00:00.000Z');

function pod(
  name: string,
  state: Partial<{ ready: boolean; phase: string; deleting: boolean; node: string; waiting: string }>,
): V1Pod {
  return {
    metadata: { name, ...(state.deleting ? { deletionTimestamp: new Date(now) } : {}) },
    spec: { containers: [], ...(state.node ? { nodeName: state.node } : {}) },
    status: {
      phase: state.phase ?? 'Running',
      conditions: [{ type: 'Ready', status: state.ready ? 'True' : 'False' }],
      ...(state.waiting
        ? {
            containerStatuses: [
              {
                name: 'worker',
                image: 'x',
                imageID: '',
                ready: false,
                restartCount: 0,
                state: { waiting: { reason: state.waiting } },
              },
            ],
          }
        : {}),
    },
  };
}

test('countPods: ready, starting (with why), terminating; finished pods do not count', () => {
  const counts = countPods([
    pod('a', { ready: true, node: 'n' }),
    pod('b', { ready: true, node: 'n' }),
    pod('c', { phase: 'Pending' }),
    pod('d', { phase: 'Pending', node: 'n', waiting: 'CreateContainerConfigError' }),
    pod('e', { ready: true, node: 'n', deleting: true }),
    pod('f', { phase: 'Failed', node: 'n' }),
  ]);
  assert.deepEqual(counts, {
    existing: 4,
    ready: 2,
    starting: 2,
    terminating: 1,
    waiting: { Unscheduled: 1, CreateContainerConfigError: 1 },
  });
});

function pool(status?: WorkerPool['status'], autoscaling = true): WorkerPool {
  return {
    metadata: { name: 'lane', namespace: 'ns', generation: 2 },
    spec: {
      queues: { names: ['local_backfill_nonreads'] },
      image: 'model-runner/worker:dev',
      replicas: 1,
      minReplicas: 0,
      maxReplicas: 4,
      ...(autoscaling ? { autoscaling: { targetMessagesPerReplica: 5 } } : {}),
    },
    ...(status ? { status } : {}),
  };
}

function observation(overrides: Partial<WorkerPoolObservation> = {}): WorkerPoolObservation {
  return {
    queues: ['local_backfill_nonreads'],
    pods: { existing: 2, ready: 2, starting: 0, terminating: 0, waiting: {} },
    depth: { ready: 8, countedReady: 8, unacked: 2, consumers: 2, missingQueues: [] },
    autoscaled: true,
    replicas: 2,
    previousReplicas: 2,
    explanation: '10 messages (8 ready, 2 unacknowledged) at 5 per worker',
    limitedBy: undefined,
    heldUntil: undefined,
    ...overrides,
  };
}

function conditionsOf(status: WorkerPool['status']): Record<string, [string, string]> {
  return Object.fromEntries((status?.conditions ?? []).map((c) => [c.type, [c.status, c.reason]]));
}

test('a scale-up: desired, depth, last scale time and reason, and one Event', () => {
  const next = nextWorkerPoolStatus(
    pool(),
    observation({
      depth: { ready: 18, countedReady: 18, unacked: 2, consumers: 2, missingQueues: [] },
      explanation: '20 messages (18 ready, 2 unacknowledged) at 5 per worker',
      replicas: 4,
      pods: { existing: 4, ready: 2, starting: 2, terminating: 0, waiting: { Unscheduled: 2 } },
    }),
    now,
  );
  assert.equal(next.scaleReason, 'ScaledUp');
  assert.deepEqual(
    { ...next.status, conditions: undefined },
    {
      observedGeneration: 2,
      queues: ['local_backfill_nonreads'],
      selector: 'modelrunner.io/workerpool=lane',
      replicas: 4,
      desiredReplicas: 4,
      readyReplicas: 2,
      startingReplicas: 2,
      terminatingReplicas: 0,
      queueDepth: { ready: 18, unacked: 2, total: 20 },
      consumers: 2,
      lastScaleTime: '2026-03-01T12:00:00Z',
      lastScaleReason: 'ScaledUp',
      lastScaleMessage: '2 → 4 workers: 20 messages (18 ready, 2 unacknowledged) at 5 per worker',
      message: '2 of 4 workers ready, depth 20',
      conditions: undefined,
    },
  );
  assert.deepEqual(conditionsOf(next.status), {
    QueuesFound: ['True', 'QueuesExist'],
    Ready: ['False', 'WorkersStarting'],
    ScalingActive: ['True', 'DepthRead'],
    ScalingLimited: ['False', 'DesiredWithinRange'],
  });
  assert.match(
    next.status.conditions!.find((c) => c.type === 'Ready')!.message,
    /2 of 4 workers ready, 2 starting \(2 Unscheduled\)/,
  );
  assert.deepEqual(next.events, [
    {
      type: 'Normal',
      reason: 'ScaledUp',
      note: '2 → 4 workers: 20 messages (18 ready, 2 unacknowledged) at 5 per worker',
    },
  ]);
});

test('the same world again: the same status and no Event', () => {
  const first = nextWorkerPoolStatus(pool(), observation(), now);
  const second = nextWorkerPoolStatus(pool(first.status), observation(), new Date(now.getTime() + 5_000));
  assert.deepEqual(second.status, first.status);
  assert.deepEqual(second.events, []);
  assert.equal(second.scaleReason, undefined);
});

test('a queue that does not exist: QueuesFound False with the queue named, and a Warning once', () => {
  const missing = observation({
    depth: {
      ready: 0,
      countedReady: 0,
      unacked: 0,
      consumers: 0,
      missingQueues: ['local_backfill_nonreads'],
    },
  });
  const next = nextWorkerPoolStatus(pool(), missing, now);
  const condition = next.status.conditions!.find((c) => c.type === 'QueuesFound')!;
  assert.equal(condition.status, 'False');
  assert.equal(condition.reason, 'QueueNotFound');
  assert.match(condition.message, /queue local_backfill_nonreads does not exist on the broker/);
  assert.deepEqual(
    next.events.map((event) => [event.type, event.reason]),
    [['Warning', 'QueueNotFound']],
  );
  assert.deepEqual(nextWorkerPoolStatus(pool(next.status), missing, now).events, []);
});

test('queueDepth: ready as the broker holds it now, total as the autoscaler counts it', () => {
  // Delivered a moment ago: the management API still shows 6 ready, the broker 1.
  const next = nextWorkerPoolStatus(
    pool(),
    observation({ depth: { ready: 1, countedReady: 6, unacked: 2, consumers: 2, missingQueues: [] } }),
    now,
  );
  assert.deepEqual(next.status.queueDepth, { ready: 1, unacked: 2, total: 8 });
});

test('depth unreadable: the last depth is kept, ScalingActive says so, a Warning once', () => {
  const before = nextWorkerPoolStatus(pool(), observation(), now).status;
  const next = nextWorkerPoolStatus(
    pool(before),
    observation({ depth: undefined, depthProblem: 'ECONNREFUSED' }),
    now,
  );
  assert.deepEqual(next.status.queueDepth, { ready: 8, unacked: 2, total: 10 });
  assert.equal(next.status.consumers, 2);
  assert.deepEqual(conditionsOf(next.status).ScalingActive, ['False', 'DepthUnavailable']);
  assert.match(
    next.status.conditions!.find((c) => c.type === 'ScalingActive')!.message,
    /ECONNREFUSED.*holding 2 workers/,
  );
  assert.deepEqual(conditionsOf(next.status).QueuesFound, ['True', 'QueuesExist'], 'kept as it was');
  assert.deepEqual(
    next.events.map((event) => event.reason),
    ['DepthUnavailable'],
  );
});

test('limited by maxReplicas, and held by the cooldown', () => {
  const limited = nextWorkerPoolStatus(pool(), observation({ limitedBy: 'maxReplicas', replicas: 4 }), now);
  assert.deepEqual(conditionsOf(limited.status).ScalingLimited, ['True', 'TooManyReplicas']);
  const held = nextWorkerPoolStatus(
    pool(),
    observation({ heldUntil: new Date('2026-03-01T12:04:00Z') }),
    now,
  );
  assert.match(
    held.status.conditions!.find((c) => c.type === 'ScalingActive')!.message,
    /holding 2 workers for the cooldown, until 2026-03-01T12:04:00Z/,
  );
});

test('without autoscaling: AutoscalingOff, no ScalingLimited, a change of spec.replicas is reason Replicas', () => {
  const next = nextWorkerPoolStatus(
    pool(undefined, false),
    observation({ autoscaled: false, replicas: 3, previousReplicas: 1, explanation: 'spec.replicas' }),
    now,
  );
  assert.deepEqual(conditionsOf(next.status).ScalingActive, ['False', 'AutoscalingOff']);
  assert.equal(conditionsOf(next.status).ScalingLimited, undefined);
  assert.equal(next.status.lastScaleReason, 'Replicas');
  assert.equal(next.status.lastScaleMessage, '1 → 3 workers: spec.replicas');
});

test('at zero workers the pool is Ready (nothing wanted); a name taken by a foreign Deployment is not', () => {
  const asleep = nextWorkerPoolStatus(
    pool(),
    observation({
      replicas: 0,
      previousReplicas: 0,
      pods: { existing: 0, ready: 0, starting: 0, terminating: 0, waiting: {} },
    }),
    now,
  );
  assert.deepEqual(conditionsOf(asleep.status).Ready, ['True', 'NoWorkersWanted']);
  const taken = nextWorkerPoolStatus(
    pool(),
    observation({ deploymentNameTaken: true, replicas: 0, previousReplicas: 0 }),
    now,
  );
  assert.deepEqual(conditionsOf(taken.status).Ready, ['False', 'DeploymentNameTaken']);
  assert.deepEqual(
    taken.events.map((event) => event.reason),
    ['DeploymentNameTaken'],
  );
});
