// kube-controller-manager's garbage collector: deleting an owner deletes what it
// owns (in the background, or in the foreground: owner last), and an orphaning
// delete leaves the dependents without the owner reference.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { V1ConfigMap, V1OwnerReference } from '@kubernetes/client-node';
import {
  LOCAL_POD_RUNNER,
  createTestNamespace,
  deleteTestNamespace,
  findOrUndefined,
  isProcessAlive,
  kubeClients,
  pidOfContainer,
  pollUntil,
  requireLocalPodRunner,
} from '../../support/kube.ts';

let namespace: string;
before(async () => {
  await requireLocalPodRunner();
  namespace = await createTestNamespace('kube-gc');
});
after(async () => {
  if (namespace) await deleteTestNamespace(namespace);
});

function ownedBy(owner: V1ConfigMap): V1OwnerReference {
  return { apiVersion: 'v1', kind: 'ConfigMap', name: owner.metadata!.name!, uid: owner.metadata!.uid! };
}

async function createOwnerWithDependents(prefix: string): Promise<string[]> {
  const { core } = kubeClients();
  const owner = await core.createNamespacedConfigMap({
    namespace,
    body: { metadata: { name: `${prefix}-owner` } },
  });
  const names = [`${prefix}-dependent-a`, `${prefix}-dependent-b`];
  for (const name of names) {
    await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name, ownerReferences: [ownedBy(owner)] }, data: { owner: prefix } },
    });
  }
  return names;
}

async function existingConfigMaps(names: string[]): Promise<string[]> {
  const { core } = kubeClients();
  const found = await Promise.all(
    names.map((name) => findOrUndefined(() => core.readNamespacedConfigMap({ namespace, name }))),
  );
  return found.flatMap((configMap) => (configMap ? [configMap.metadata!.name!] : []));
}

test('deleting an owner in the background deletes its dependents', async () => {
  const dependents = await createOwnerWithDependents('background');
  await kubeClients().core.deleteNamespacedConfigMap({
    namespace,
    name: 'background-owner',
    body: { propagationPolicy: 'Background' },
  });
  let left: string[] = [];
  await pollUntil(
    'the garbage collector to delete the dependents',
    async () => (left = await existingConfigMaps(dependents)).length === 0,
    { describe: () => left },
  );
});

test('an orphaning delete keeps the dependents and drops their owner reference', async () => {
  const { core } = kubeClients();
  const dependents = await createOwnerWithDependents('orphan');
  await core.deleteNamespacedConfigMap({
    namespace,
    name: 'orphan-owner',
    body: { propagationPolicy: 'Orphan' },
  });
  await pollUntil('the owner to be gone', async () =>
    (await existingConfigMaps(['orphan-owner'])).length === 0 ? true : undefined,
  );
  let references: unknown[] = [];
  await pollUntil(
    'the owner references to be removed',
    async () => {
      const configMaps = await Promise.all(
        dependents.map((name) => core.readNamespacedConfigMap({ namespace, name })),
      );
      references = configMaps.map((configMap) => configMap.metadata?.ownerReferences ?? []);
      return references.every((list) => (list as unknown[]).length === 0);
    },
    { describe: () => references },
  );
  assert.deepEqual(await existingConfigMaps(dependents), dependents);
});

test('deleting a Deployment in the foreground removes its ReplicaSet, its pods and their processes first', async () => {
  const { apps, core } = kubeClients();
  await apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name: 'owned' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'owned' } },
        template: {
          metadata: { labels: { app: 'owned' } },
          spec: {
            schedulerName: LOCAL_POD_RUNNER,
            terminationGracePeriodSeconds: 5,
            containers: [
              {
                name: 'main',
                image: 'busybox:1.36',
                command: ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 0.2; done'],
              },
            ],
          },
        },
      },
    },
  });
  const pod = await pollUntil(
    'the Deployment pod to run',
    async () => {
      const pods = await core.listNamespacedPod({ namespace, labelSelector: 'app=owned' });
      return pods.items.find((candidate) => candidate.status?.containerStatuses?.[0]?.state?.running);
    },
    { timeoutMs: 45_000 },
  );
  const pid = pidOfContainer(pod.status?.containerStatuses?.[0]?.containerID);
  assert.equal(isProcessAlive(pid), true);
  const replicaSets = await apps.listNamespacedReplicaSet({ namespace, labelSelector: 'app=owned' });
  assert.equal(replicaSets.items.length, 1);
  assert.equal(replicaSets.items[0]?.metadata?.ownerReferences?.[0]?.name, 'owned');

  await apps.deleteNamespacedDeployment({
    namespace,
    name: 'owned',
    body: { propagationPolicy: 'Foreground' },
  });
  // Foreground: the owner stays, marked with the foregroundDeletion finalizer, until its dependents are gone.
  const deleting = await findOrUndefined(() => apps.readNamespacedDeployment({ namespace, name: 'owned' }));
  if (deleting) assert.ok(deleting.metadata?.deletionTimestamp);

  let state: unknown;
  await pollUntil(
    'the Deployment, its ReplicaSet and its pod to be gone',
    async () => {
      const [deployment, sets, pods] = await Promise.all([
        findOrUndefined(() => apps.readNamespacedDeployment({ namespace, name: 'owned' })),
        apps.listNamespacedReplicaSet({ namespace, labelSelector: 'app=owned' }),
        core.listNamespacedPod({ namespace, labelSelector: 'app=owned' }),
      ]);
      state = {
        deployment: deployment?.metadata?.finalizers,
        replicaSets: sets.items.length,
        pods: pods.items.length,
      };
      return !deployment && sets.items.length === 0 && pods.items.length === 0;
    },
    { timeoutMs: 45_000, describe: () => state },
  );
  assert.equal(isProcessAlive(pid), false, `process ${pid} of the deleted pod has exited`);
});
