// The demo's in-cluster part: a namespace, a Secret holding the service endpoints (workers
// get credentials only by Secret reference), and one worker Deployment per lane. The pods
// opt in to the local pod runner, which maps the worker image to worker-image/main.ts.
import type { V1Deployment } from '@kubernetes/client-node';
import {
  createKubeClients,
  loadKubeConfig,
  mergePatch,
  serverSideApply,
  type KubeClients,
} from '../adapters/kube/index.ts';

export type DemoKube = Pick<KubeClients, 'core' | 'apps'>;

export interface DemoWorkloads {
  namespace: string;
  lakeDir: string;
  database: string;
  redisPrefix: string;
  sinkEnv: string;
  queues: string[];
  endpoints: Record<string, string>;
}

const FIELD_MANAGER = 'model-runner-demo';
const ENDPOINTS_SECRET = 'demo-endpoints';
const WORKER_IMAGE = 'model-runner/worker:dev';

export function demoKubeClients(kubeconfigPath: string): DemoKube {
  return createKubeClients(loadKubeConfig({ KUBECONFIG: kubeconfigPath }));
}

/** A Deployment name for a queue: `local_backfill_nonreads` → `workers-local-backfill-nonreads`. */
export function workerDeploymentName(queue: string): string {
  return `workers-${queue.replaceAll('_', '-')}`;
}

function workerDeployment(spec: DemoWorkloads, queue: string): V1Deployment {
  const name = workerDeploymentName(queue);
  const labels = { 'app.kubernetes.io/name': 'model-runner-worker', 'modelrunner.io/queue': queue };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: spec.namespace, labels },
    spec: {
      replicas: 2,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          schedulerName: 'local-pod-runner',
          terminationGracePeriodSeconds: 30,
          containers: [
            {
              name: 'worker',
              image: WORKER_IMAGE,
              envFrom: [{ secretRef: { name: ENDPOINTS_SECRET } }],
              env: [
                { name: 'WORKER_MODE', value: 'queue' },
                { name: 'WORKER_QUEUES', value: queue },
                { name: 'WORKER_CONCURRENCY', value: '2' },
                { name: 'WORKER_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                { name: 'LAKE_URL', value: spec.lakeDir },
                { name: 'CLICKHOUSE_DATABASE', value: spec.database },
                { name: 'REDIS_PROGRESS_PREFIX', value: spec.redisPrefix },
                { name: 'SINK_ENV', value: spec.sinkEnv },
                // Every pod of the local runner shares 127.0.0.1: let each pick a free metrics port.
                { name: 'METRICS_PORT', value: '0' },
                { name: 'LOG_LEVEL', value: 'info' },
              ],
            },
          ],
        },
      },
    },
  };
}

/** Creates or updates everything by server-side apply, so re-running the demo converges. */
export async function applyDemoWorkloads(kube: DemoKube, spec: DemoWorkloads): Promise<void> {
  const apply = { fieldManager: FIELD_MANAGER, force: true };
  await kube.core.patchNamespace(
    {
      name: spec.namespace,
      body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: spec.namespace } },
      ...apply,
    },
    serverSideApply,
  );
  await kube.core.patchNamespacedSecret(
    {
      name: ENDPOINTS_SECRET,
      namespace: spec.namespace,
      body: {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: ENDPOINTS_SECRET, namespace: spec.namespace },
        stringData: spec.endpoints,
      },
      ...apply,
    },
    serverSideApply,
  );
  for (const queue of spec.queues) {
    const body = workerDeployment(spec, queue);
    await kube.apps.patchNamespacedDeployment(
      { name: body.metadata!.name!, namespace: spec.namespace, body, ...apply },
      serverSideApply,
    );
  }
  await waitForReadyWorkers(kube, spec.namespace, spec.queues);
}

async function waitForReadyWorkers(kube: DemoKube, namespace: string, queues: string[]): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (const queue of queues) {
    const name = workerDeploymentName(queue);
    for (;;) {
      const deployment = await kube.apps.readNamespacedDeployment({ name, namespace });
      const want = deployment.spec?.replicas ?? 0;
      const ready = deployment.status?.readyReplicas ?? 0;
      if (ready >= want && (deployment.status?.updatedReplicas ?? 0) >= want) {
        console.log(`  deployment/${name}: ${ready}/${want} workers ready`);
        break;
      }
      if (Date.now() > deadline) throw new Error(`deployment/${name}: only ${ready}/${want} ready after 60s`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/** Scales every demo worker Deployment (the scale subresource, as `kubectl scale` does). */
export async function scaleDemoWorkloads(kube: DemoKube, namespace: string, replicas: number): Promise<void> {
  const { items } = await kube.apps.listNamespacedDeployment({
    namespace,
    labelSelector: 'app.kubernetes.io/name=model-runner-worker',
  });
  for (const deployment of items) {
    await kube.apps.patchNamespacedDeploymentScale(
      { name: deployment.metadata!.name!, namespace, body: { spec: { replicas } } },
      mergePatch,
    );
  }
}
