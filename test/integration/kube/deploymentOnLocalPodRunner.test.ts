// A Deployment whose pods ask for the local pod runner: scaled up, each replica is
// a live local process; scaled to zero, each process gets SIGTERM, runs its TERM
// trap and exits before its pod is removed.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import {
  LOCAL_POD_RUNNER,
  createTestNamespace,
  deleteTestNamespace,
  isProcessAlive,
  kubeClients,
  mergePatch,
  pidOfContainer,
  pollUntil,
  processEnvironment,
  requireLocalPodRunner,
} from '../../support/kube.ts';

let namespace: string;
let markerDir: string;
before(async () => {
  await requireLocalPodRunner();
  namespace = await createTestNamespace('kube-deploy');
  markerDir = mkdtempSync(join(tmpdir(), 'kube-deploy-'));
});
after(async () => {
  if (namespace) await deleteTestNamespace(namespace);
  if (markerDir) rmSync(markerDir, { recursive: true, force: true });
});

// Runs until SIGTERM; the trap leaves a file behind to prove the shutdown was graceful.
const LOOP =
  'trap \'echo "$POD_NAME" > "$MARKER_DIR/$POD_NAME.term"; exit 0\' TERM; while true; do sleep 0.2; done';

function loopDeployment(name: string, replicas: number): V1Deployment {
  return {
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          schedulerName: LOCAL_POD_RUNNER,
          terminationGracePeriodSeconds: 10,
          containers: [
            {
              name: 'loop',
              image: 'busybox:1.36',
              command: ['sh', '-c', LOOP],
              env: [
                { name: 'MARKER_DIR', value: markerDir },
                { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
              ],
            },
          ],
        },
      },
    },
  };
}

async function podsOf(app: string): Promise<V1Pod[]> {
  return (await kubeClients().core.listNamespacedPod({ namespace, labelSelector: `app=${app}` })).items;
}

test('scaled to 2, two processes run; scaled to 0, both stop gracefully and their pods go', async () => {
  const { apps } = kubeClients();
  await apps.createNamespacedDeployment({ namespace, body: loopDeployment('loop', 2) });

  let deployment: V1Deployment | undefined;
  await pollUntil(
    'Deployment loop to have 2 ready replicas',
    async () => {
      deployment = await apps.readNamespacedDeployment({ namespace, name: 'loop' });
      return deployment.status?.readyReplicas === 2 && deployment.status.availableReplicas === 2;
    },
    { timeoutMs: 45_000, describe: () => deployment?.status },
  );

  const pods = await podsOf('loop');
  assert.equal(pods.length, 2);
  const processes = pods.map((pod) => {
    assert.equal(pod.spec?.nodeName, LOCAL_POD_RUNNER);
    assert.equal(pod.status?.phase, 'Running');
    const status = pod.status?.containerStatuses?.[0];
    assert.equal(status?.ready, true);
    assert.ok(status?.state?.running?.startedAt);
    return { pod: pod.metadata!.name!, pid: pidOfContainer(status?.containerID) };
  });
  assert.notEqual(processes[0]!.pid, processes[1]!.pid);
  for (const { pod, pid } of processes) {
    assert.equal(isProcessAlive(pid), true, `process ${pid} of pod ${pod} is alive`);
    // The process really belongs to that pod: its downward-API env names it.
    assert.equal(processEnvironment(pid).POD_NAME, pod);
  }

  await apps.patchNamespacedDeployment(
    { namespace, name: 'loop', body: { spec: { replicas: 0 } } },
    mergePatch,
  );
  let left: V1Pod[] = [];
  await pollUntil(
    'every pod of Deployment loop to be gone',
    async () => {
      left = await podsOf('loop');
      return left.length === 0;
    },
    { timeoutMs: 45_000, describe: () => left.map((pod) => [pod.metadata?.name, pod.status?.phase]) },
  );
  for (const { pod, pid } of processes) {
    assert.equal(isProcessAlive(pid), false, `process ${pid} of pod ${pod} has exited`);
    assert.equal(
      readFileSync(join(markerDir, `${pod}.term`), 'utf8'),
      `${pod}\n`,
      `pod ${pod} ran its TERM trap`,
    );
  }
  const scaled = await apps.readNamespacedDeployment({ namespace, name: 'loop' });
  assert.equal(scaled.status?.readyReplicas ?? 0, 0);
});
