import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { V1EnvVar } from '@kubernetes/client-node';
import {
  POOL_LABEL,
  poolDeployment,
  poolSelector,
  workerShutdownGraceMs,
} from '../../../controllers/planning/workerPoolDeployment.ts';
import { poolQueues } from '../../../controllers/planning/workerPoolQueues.ts';
import type { WorkerPool } from '../../../crds/generated/types.ts';

const settings = {
  image: 'model-runner/worker:dev',
  secretName: 'model-runner-worker',
  schedulerName: 'local-pod-runner',
  env: { LAKE_URL: 'gs://lake', SINK_ENV: 'dev', LOG_LEVEL: 'info' },
};

function pool(spec: Partial<WorkerPool['spec']> = {}): WorkerPool {
  return {
    apiVersion: 'modelrunner.io/v1alpha1',
    kind: 'WorkerPool',
    metadata: { name: 'eth-realtime', namespace: 'data', uid: 'uid-1', generation: 3 },
    spec: { queues: { names: ['ethereum_realtime_reads'] }, image: 'ghcr.io/x/worker:1.0', ...spec },
  };
}

function envOf(deployment: ReturnType<typeof poolDeployment>): Record<string, V1EnvVar> {
  return Object.fromEntries(
    (deployment.spec!.template.spec!.containers[0]!.env ?? []).map((entry) => [entry.name, entry]),
  );
}

test('poolQueues: names as listed, a selector expanded lane by lane and kind by kind', () => {
  const cases: [string, WorkerPool['spec']['queues'], string[]][] = [
    ['names', { names: ['backfill_2', 'backfill_1', 'backfill_2'] }, ['backfill_2', 'backfill_1']],
    [
      'selector with defaults',
      { selector: { chain: 'op' } },
      ['op_realtime_reads', 'op_realtime_nonreads', 'op_backfill_reads', 'op_backfill_nonreads'],
    ],
    [
      'one lane, one kind',
      { selector: { chain: 'local', lanes: ['backfill'], kinds: ['nonreads'] } },
      ['local_backfill_nonreads'],
    ],
    [
      'order follows the lanes and kinds, not the list',
      { selector: { chain: 'base', lanes: ['backfill', 'realtime'], kinds: ['nonreads'] } },
      ['base_realtime_nonreads', 'base_backfill_nonreads'],
    ],
  ];
  for (const [name, selection, expected] of cases) assert.deepEqual(poolQueues(selection), expected, name);
  assert.throws(() => poolQueues({ names: ['ethereum_realtime_reads.dlq'] }), /invalid work queue/);
  assert.throws(() => poolQueues({ selector: { chain: 'Bad-Chain' } }), /chain name/);
  assert.throws(() => poolQueues({}), /names or a selector/);
});

test('workerShutdownGraceMs: the grace period less up to 5 s (at most half) to hand back and close', () => {
  const cases: [number, number][] = [
    [600, 595_000],
    [30, 25_000],
    [10, 5_000],
    [6, 3_000],
    [1, 500],
    [0, 0],
  ];
  for (const [seconds, expected] of cases)
    assert.equal(workerShutdownGraceMs(seconds), expected, `${seconds} s`);
});

test('poolDeployment: one Deployment per pool, owned by it, selecting its pods by the pool label', () => {
  const deployment = poolDeployment(pool(), ['ethereum_realtime_reads'], 3, settings);
  assert.equal(deployment.metadata?.name, 'eth-realtime');
  assert.equal(deployment.metadata?.namespace, 'data');
  assert.deepEqual(deployment.metadata?.ownerReferences, [
    {
      apiVersion: 'modelrunner.io/v1alpha1',
      kind: 'WorkerPool',
      name: 'eth-realtime',
      uid: 'uid-1',
      controller: true,
      blockOwnerDeletion: true,
    },
  ]);
  assert.equal(deployment.spec?.replicas, 3);
  assert.deepEqual(deployment.spec?.selector, { matchLabels: { [POOL_LABEL]: 'eth-realtime' } });
  assert.equal(deployment.spec?.template.metadata?.labels?.[POOL_LABEL], 'eth-realtime');
  assert.equal(poolSelector('eth-realtime'), 'modelrunner.io/workerpool=eth-realtime');
  const podSpec = deployment.spec!.template.spec!;
  assert.equal(podSpec.schedulerName, 'local-pod-runner');
  assert.equal(podSpec.terminationGracePeriodSeconds, 600);
  const container = podSpec.containers[0]!;
  assert.equal(container.image, 'ghcr.io/x/worker:1.0');
  assert.deepEqual(container.envFrom, [{ secretRef: { name: 'model-runner-worker' } }]);
  const env = envOf(deployment);
  assert.equal(env.WORKER_MODE?.value, 'queue');
  assert.equal(env.WORKER_QUEUES?.value, 'ethereum_realtime_reads');
  assert.equal(env.WORKER_PREFETCH?.value, '1');
  assert.equal(env.WORKER_SHUTDOWN_GRACE_MS?.value, '595000');
  assert.deepEqual(env.WORKER_NAME?.valueFrom, { fieldRef: { fieldPath: 'metadata.name' } });
  assert.equal(env.LAKE_URL?.value, 'gs://lake');
});

test("poolDeployment: the pool's settings, env and pod template", () => {
  const deployment = poolDeployment(
    pool({
      prefetch: 4,
      imagePullPolicy: 'Always',
      resources: { requests: { cpu: '500m' }, limits: { memory: '1Gi' } },
      env: [
        { name: 'LOG_LEVEL', value: 'debug' },
        { name: 'WORKER_QUEUES', value: 'someone_elses_queue' },
        { name: 'ETH_RPC_URL', valueFrom: { secretKeyRef: { name: 'rpc', key: 'url' } } },
      ],
      envFrom: [{ configMapRef: { name: 'chains' } }],
      podTemplate: {
        schedulerName: 'my-runner',
        serviceAccountName: 'workers',
        priorityClassName: 'realtime',
        nodeSelector: { pool: 'workers' },
        terminationGracePeriodSeconds: 30,
        metadata: { labels: { team: 'data', [POOL_LABEL]: 'not-this' }, annotations: { note: 'x' } },
      },
    }),
    ['ethereum_realtime_reads'],
    1,
    settings,
  );
  const podSpec = deployment.spec!.template.spec!;
  assert.equal(podSpec.schedulerName, 'my-runner');
  assert.equal(podSpec.serviceAccountName, 'workers');
  assert.equal(podSpec.priorityClassName, 'realtime');
  assert.deepEqual(podSpec.nodeSelector, { pool: 'workers' });
  assert.equal(podSpec.terminationGracePeriodSeconds, 30);
  assert.equal(deployment.spec?.template.metadata?.labels?.team, 'data');
  assert.equal(
    deployment.spec?.template.metadata?.labels?.[POOL_LABEL],
    'eth-realtime',
    'the selector label wins',
  );
  assert.deepEqual(deployment.spec?.template.metadata?.annotations, { note: 'x' });
  const container = podSpec.containers[0]!;
  assert.equal(container.imagePullPolicy, 'Always');
  assert.deepEqual(container.resources, { requests: { cpu: '500m' }, limits: { memory: '1Gi' } });
  assert.deepEqual(container.envFrom, [
    { secretRef: { name: 'model-runner-worker' } },
    { configMapRef: { name: 'chains' } },
  ]);
  const names = (container.env ?? []).map((entry) => entry.name);
  assert.equal(new Set(names).size, names.length, 'every name once');
  const env = envOf(deployment);
  assert.equal(env.LOG_LEVEL?.value, 'debug', "the pool's env wins over the operator's");
  assert.equal(env.WORKER_QUEUES?.value, 'ethereum_realtime_reads', 'the queues are the pool’s own');
  assert.equal(env.WORKER_PREFETCH?.value, '4');
  assert.equal(env.WORKER_SHUTDOWN_GRACE_MS?.value, '25000', 'derived from terminationGracePeriodSeconds');
  assert.deepEqual(env.ETH_RPC_URL?.valueFrom, { secretKeyRef: { name: 'rpc', key: 'url' } });
});

test('poolDeployment: without a scheduler in pool or operator config, none is set', () => {
  const { schedulerName: _unused, ...withoutScheduler } = settings;
  const deployment = poolDeployment(pool(), ['ethereum_realtime_reads'], 0, withoutScheduler);
  assert.equal(deployment.spec?.template.spec?.schedulerName, undefined);
  assert.equal(deployment.spec?.replicas, 0);
});
