// A Job whose pod asks for the local pod runner runs for real: the Job controller
// of kube-controller-manager creates the pod, the runner binds it, runs its command
// with env from a Secret and a ConfigMap, and reports the exit; the Job completes
// or fails on that outcome.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { V1Container, V1Job, V1Pod } from '@kubernetes/client-node';
import {
  LOCAL_POD_RUNNER,
  createTestNamespace,
  deleteTestNamespace,
  kubeClients,
  podLogPath,
  podSandboxPath,
  pollUntil,
  requireLocalPodRunner,
} from '../../support/kube.ts';

const namespaces: string[] = [];
before(requireLocalPodRunner);
after(async () => {
  await Promise.all(namespaces.map(deleteTestNamespace));
});

async function testNamespace(): Promise<string> {
  const namespace = await createTestNamespace('kube-job');
  namespaces.push(namespace);
  return namespace;
}

function shellJob(name: string, script: string, env: Pick<V1Container, 'env' | 'envFrom'> = {}): V1Job {
  return {
    metadata: { name },
    spec: {
      backoffLimit: 0,
      template: {
        spec: {
          schedulerName: LOCAL_POD_RUNNER,
          restartPolicy: 'Never',
          containers: [{ name: 'main', image: 'busybox:1.36', command: ['sh', '-c', script], ...env }],
        },
      },
    },
  };
}

async function waitForJobCondition(
  namespace: string,
  name: string,
  type: 'Complete' | 'Failed',
): Promise<V1Job> {
  const { batch } = kubeClients();
  let last: V1Job | undefined;
  return pollUntil(
    `Job ${namespace}/${name} to be ${type}`,
    async () => {
      last = await batch.readNamespacedJob({ namespace, name });
      const done = last.status?.conditions?.find(
        (condition) => condition.status === 'True' && ['Complete', 'Failed'].includes(condition.type),
      );
      return done?.type === type ? last : undefined;
    },
    { timeoutMs: 45_000, describe: () => last?.status },
  );
}

async function podOfJob(namespace: string, job: string): Promise<V1Pod> {
  const pods = await kubeClients().core.listNamespacedPod({
    namespace,
    labelSelector: `batch.kubernetes.io/job-name=${job}`,
  });
  assert.equal(
    pods.items.length,
    1,
    `one pod for Job ${job}, found ${pods.items.map((pod) => pod.metadata?.name).join(', ')}`,
  );
  return pods.items[0]!;
}

test('a Job runs its command with env from a Secret and a ConfigMap and completes', async () => {
  const namespace = await testNamespace();
  const { core, batch } = kubeClients();
  await core.createNamespacedSecret({
    namespace,
    body: { metadata: { name: 'greeting' }, stringData: { text: 'hello' } },
  });
  await core.createNamespacedConfigMap({
    namespace,
    body: { metadata: { name: 'audience' }, data: { TARGET: 'world' } },
  });
  await batch.createNamespacedJob({
    namespace,
    // $(GREETING) is expanded by the runner, as the kubelet would; $TARGET by the shell.
    body: shellJob('greet', 'echo "$(GREETING), $TARGET" > out && cat out', {
      env: [{ name: 'GREETING', valueFrom: { secretKeyRef: { name: 'greeting', key: 'text' } } }],
      envFrom: [{ configMapRef: { name: 'audience' } }],
    }),
  });

  const job = await waitForJobCondition(namespace, 'greet', 'Complete');
  assert.equal(job.status?.succeeded, 1);
  assert.equal(job.status?.failed ?? 0, 0);

  const pod = await podOfJob(namespace, 'greet');
  const name = pod.metadata!.name!;
  assert.equal(pod.spec?.nodeName, LOCAL_POD_RUNNER);
  assert.equal(pod.status?.phase, 'Succeeded');
  assert.equal(pod.status?.podIP, '127.0.0.1');
  const terminated = pod.status?.containerStatuses?.[0]?.state?.terminated;
  assert.deepEqual([terminated?.exitCode, terminated?.reason], [0, 'Completed']);
  assert.ok(terminated?.startedAt && terminated.finishedAt);
  assert.equal(
    pod.status?.conditions?.find((condition) => condition.type === 'Ready')?.reason,
    'PodCompleted',
  );
  assert.equal(readFileSync(podLogPath(namespace, name, 'main'), 'utf8'), 'hello, world\n');
  assert.equal(readFileSync(join(podSandboxPath(namespace, name), 'out'), 'utf8'), 'hello, world\n');
});

test('a Job whose command exits 3 fails, and the pod reports exit code 3', async () => {
  const namespace = await testNamespace();
  await kubeClients().batch.createNamespacedJob({
    namespace,
    body: shellJob('broken', 'echo "about to fail" >&2; exit 3'),
  });

  const job = await waitForJobCondition(namespace, 'broken', 'Failed');
  assert.equal(job.status?.failed, 1);
  assert.equal(
    job.status?.conditions?.find((condition) => condition.type === 'Failed')?.reason,
    'BackoffLimitExceeded',
  );

  const pod = await podOfJob(namespace, 'broken');
  assert.equal(pod.status?.phase, 'Failed');
  const terminated = pod.status?.containerStatuses?.[0]?.state?.terminated;
  assert.deepEqual([terminated?.exitCode, terminated?.reason], [3, 'Error']);
  assert.equal(readFileSync(podLogPath(namespace, pod.metadata!.name!, 'main'), 'utf8'), 'about to fail\n');
});
