// The operator on the local stack: `make deploy` / `make undeploy` install it into the stack's
// cluster (deploy/operator.yaml plus the stack's configuration and credentials), and
// `make run` runs it in the foreground with the admin kubeconfig. Dev tooling: a real cluster
// takes the same objects from the Helm chart.
//
//   node devtools/stackOperator.ts deploy | undeploy | run
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import {
  type KubeClients,
  applyObject,
  createKubeClients,
  findOrUndefined,
  isNotFound,
  loadKubeConfig,
} from '../adapters/kube/index.ts';
import { DEFAULT_WORKER_POOLS_FILE } from './defaultWorkerPools.ts';
import { installCrds, kubectlOk } from './kubectl.ts';
import { chainDefaults, repoRoot, stackEnv } from './stackEnv.ts';

const NAMESPACE = 'model-runner-system';
const FIELD_MANAGER = 'model-runner-deploy';
const WORKER_SECRET = 'model-runner-worker';
const WORKER_NAMESPACES = ['default'];
const LOCAL_POD_RUNNER = 'local-pod-runner';

type Manifest = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } } & Record<
  string,
  unknown
>;

function manifests(file: string): Manifest[] {
  return parseAllDocuments(readFileSync(join(repoRoot, file), 'utf8'))
    .map((document) => document.toJS() as Manifest | null)
    .filter((manifest): manifest is Manifest => manifest !== null);
}

/** The operator configuration for the stack: its lake, marker database, and pods run by the pod runner. */
export function stackOperatorConfig(): string {
  const { LAKE_URL, CLICKHOUSE_DATABASE } = chainDefaults();
  return stringify({
    lakeUrl: LAKE_URL,
    clickhouseDatabase: CLICKHOUSE_DATABASE,
    sinkEnv: 'local',
    // The tests run operators of their own in namespaces labelled so: this one leaves them alone.
    namespaceSelector: 'model-runner.dev/test!=true',
    worker: {
      image: 'model-runner/worker:dev',
      schedulerName: LOCAL_POD_RUNNER,
      // Every pod of the local pod runner shares 127.0.0.1: let each pick a free metrics port.
      env: { METRICS_PORT: '0', GCS_ENDPOINT: stackEnv().GCS_ENDPOINT },
    },
    metrics: { port: 0 },
    // The stack's RabbitMQ refreshes its statistics every second (stack/up.sh).
    workerPools: { statisticsIntervalSeconds: 1 },
  });
}

/** The service URLs (credentials) the operator reads from its Secret. */
function operatorCredentials(): Record<string, string> {
  const env = stackEnv();
  return {
    RABBITMQ_URL: env.RABBITMQ_URL,
    RABBITMQ_MANAGEMENT_URL: env.RABBITMQ_MANAGEMENT_URL,
    REDIS_URL: env.REDIS_URL,
    CLICKHOUSE_URL: env.CLICKHOUSE_URL,
    DATABASE_URL: env.DATABASE_URL,
    ETH_RPC_URL: env.ETH_RPC_URL,
  };
}

/** What worker pods read from the namespace's worker Secret. */
function workerCredentials(): Record<string, string> {
  const env = stackEnv();
  return {
    RABBITMQ_URL: env.RABBITMQ_URL,
    REDIS_URL: env.REDIS_URL,
    CLICKHOUSE_URL: env.CLICKHOUSE_URL,
    KAFKA_BROKERS: env.KAFKA_BROKERS,
    ETH_RPC_URL: env.ETH_RPC_URL,
  };
}

async function apply(kube: KubeClients, manifest: Manifest): Promise<void> {
  await applyObject(kube, manifest, FIELD_MANAGER);
  console.log(`  ${manifest.kind.toLowerCase()}/${manifest.metadata.name} applied`);
}

function secret(namespace: string, name: string, data: Record<string, string>): Manifest {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace },
    type: 'Opaque',
    stringData: data,
  };
}

/** The stack runs pods only through its pod runner: the operator's Deployment opts in. */
/**
 * The stack runs pods only through its pod runner: the operator's Deployment opts in. The
 * configuration's and credentials' hash goes on the pod template, so a change rolls the pods
 * (they read both at start).
 */
function forTheStack(manifest: Manifest, configHash: string): Manifest {
  if (manifest.kind !== 'Deployment') return manifest;
  const deployment = structuredClone(manifest) as Manifest & {
    spec: { template: { metadata: { annotations?: Record<string, string> }; spec: Record<string, unknown> } };
  };
  deployment.spec.template.spec.schedulerName = LOCAL_POD_RUNNER;
  deployment.spec.template.metadata.annotations = { 'modelrunner.io/config-hash': configHash };
  return deployment;
}

/** Every replica updated and ready, none of the old ones left. */
async function waitForRollout(kube: KubeClients, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const deployment = await kube.apps.readNamespacedDeployment({
      namespace: NAMESPACE,
      name: 'model-runner-operator',
    });
    const want = deployment.spec?.replicas ?? 1;
    const status = deployment.status ?? {};
    if (
      (status.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 0) &&
      status.updatedReplicas === want &&
      status.readyReplicas === want &&
      (status.replicas ?? 0) === want
    ) {
      return;
    }
    if (Date.now() > deadline)
      throw new Error(
        `the operator Deployment did not roll out in ${timeoutMs / 1000}s: ${JSON.stringify(status)}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** The name of the replica that holds a fresh Lease, once that replica is one of the running pods. */
async function waitForLeader(kube: KubeClients, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pods = await kube.core.listNamespacedPod({
      namespace: NAMESPACE,
      labelSelector: 'app.kubernetes.io/name=model-runner-operator',
    });
    const running = new Set(
      pods.items.filter((pod) => !pod.metadata?.deletionTimestamp).map((pod) => pod.metadata?.name),
    );
    const lease = await findOrUndefined(() =>
      kube.coordination.readNamespacedLease({ namespace: NAMESPACE, name: 'model-runner-operator' }),
    );
    const holder = lease?.spec?.holderIdentity;
    const renewed = lease?.spec?.renewTime ? Date.parse(String(lease.spec.renewTime)) : 0;
    if (holder && running.has(holder) && Date.now() - renewed < 15_000) return holder;
    if (Date.now() > deadline)
      throw new Error(
        `no operator replica holds the leader Lease after ${timeoutMs / 1000}s: see .stack/pods/${NAMESPACE}_*`,
      );
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function deploy(kube: KubeClients): Promise<void> {
  console.log('deploy: CRDs');
  // kubectl, not client-node: its typed CRD model drops schema keywords such as x-kubernetes-int-or-string.
  await installCrds();
  console.log(`deploy: the operator in namespace ${NAMESPACE}`);
  const config = stackOperatorConfig();
  const credentials = operatorCredentials();
  const configHash = createHash('sha256')
    .update(JSON.stringify([config, credentials]))
    .digest('hex')
    .slice(0, 16);
  const objects = manifests('deploy/operator.yaml').map((manifest) => forTheStack(manifest, configHash));
  const [namespace, ...rest] = objects;
  await apply(kube, namespace!);
  await apply(kube, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'model-runner-operator-config', namespace: NAMESPACE },
    data: { 'config.yaml': config },
  });
  await apply(kube, secret(NAMESPACE, 'model-runner-operator', credentials));
  for (const object of rest) await apply(kube, object);
  console.log('deploy: worker credentials');
  for (const namespaceName of WORKER_NAMESPACES)
    await apply(kube, secret(namespaceName, WORKER_SECRET, workerCredentials()));
  console.log(`deploy: default WorkerPools (${DEFAULT_WORKER_POOLS_FILE})`);
  for (const pool of manifests(DEFAULT_WORKER_POOLS_FILE)) await apply(kube, pool);
  await waitForRollout(kube, 90_000);
  const leader = await waitForLeader(kube, 90_000);
  console.log(`deploy: ready, ${leader} leads`);
}

async function remove(read: () => Promise<unknown>, what: string): Promise<void> {
  try {
    await read();
    console.log(`  ${what} deleted`);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

async function undeploy(kube: KubeClients): Promise<void> {
  // The CRDs stay: deleting them would delete every ModelRun, schedule and pool in the cluster.
  // The default pools go while the operator still runs (their Deployments follow them).
  process.stdout.write(
    await kubectlOk(['delete', '-f', join(repoRoot, DEFAULT_WORKER_POOLS_FILE), '--ignore-not-found']),
  );
  for (const namespaceName of WORKER_NAMESPACES) {
    await remove(
      () => kube.core.deleteNamespacedSecret({ namespace: namespaceName, name: WORKER_SECRET }),
      `secret ${namespaceName}/${WORKER_SECRET}`,
    );
  }
  const rbac = kube.config.makeApiClient((await import('@kubernetes/client-node')).RbacAuthorizationV1Api);
  await remove(
    () => rbac.deleteClusterRoleBinding({ name: 'model-runner-operator' }),
    'clusterrolebinding/model-runner-operator',
  );
  await remove(
    () => rbac.deleteClusterRole({ name: 'model-runner-operator' }),
    'clusterrole/model-runner-operator',
  );
  await remove(() => kube.core.deleteNamespace({ name: NAMESPACE }), `namespace/${NAMESPACE}`);
  const deadline = Date.now() + 120_000;
  while (await findOrUndefined(() => kube.core.readNamespace({ name: NAMESPACE }))) {
    if (Date.now() > deadline) throw new Error(`namespace ${NAMESPACE} is still terminating after 120s`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  console.log('undeploy: done');
}

/** The operator in the foreground, as the admin, sharing the deployed replicas' Lease. */
async function runInForeground(kube: KubeClients): Promise<void> {
  const env = stackEnv();
  const [namespace] = manifests('deploy/operator.yaml');
  await apply(kube, namespace!);
  const child = spawn(process.execPath, [join(repoRoot, 'operator/main.ts')], {
    stdio: 'inherit',
    env: {
      ...process.env,
      ...operatorCredentials(),
      KUBECONFIG: env.KUBECONFIG,
      OPERATOR_CONFIG: stackOperatorConfig(),
      POD_NAMESPACE: NAMESPACE,
      METRICS_PORT: '9465',
    },
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  child.on('exit', (code) => process.exit(code ?? 1));
}

const commands: Record<string, (kube: KubeClients) => Promise<void>> = {
  deploy,
  undeploy,
  run: runInForeground,
};
const command = commands[process.argv[2] ?? ''];
if (!command) {
  console.error('usage: node devtools/stackOperator.ts deploy | undeploy | run');
  process.exit(2);
}
await command(createKubeClients(loadKubeConfig({ KUBECONFIG: stackEnv().KUBECONFIG })));
