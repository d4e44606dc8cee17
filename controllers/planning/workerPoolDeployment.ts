// The Deployment of a WorkerPool: one per pool, named after it, owned by it (deleting the pool
// deletes it), applied whole by server-side apply so that a change to the pool rolls out.
//
// A worker's env, later entries winning: the operator's non-secret settings, then the pool's
// own env, then what the pool itself decides (queues, prefetch, shutdown grace, name), so no
// env entry can point workers at queues the autoscaler does not count. Credentials come only
// from the namespace's worker Secret (envFrom) and the pool's own Secret references.
import type {
  V1Container,
  V1Deployment,
  V1EnvFromSource,
  V1EnvVar,
  V1PodSpec,
  V1ResourceRequirements,
} from '@kubernetes/client-node';
import { API_GROUP, API_VERSION } from '../../crds/kinds.ts';
import type { WorkerPool } from '../../crds/generated/types.ts';
import type { WorkerPodSettings } from './indexedJob.ts';

/** Labels every worker pod of a pool, and is the Deployment's selector. */
export const POOL_LABEL = `${API_GROUP}/workerpool`;
/** The ReplicaSet controller removes the pods with the lowest cost first (idle workers: 0). */
export const POD_DELETION_COST_ANNOTATION = 'controller.kubernetes.io/pod-deletion-cost';
export const DEFAULT_TERMINATION_GRACE_SECONDS = 600;
/** Of the grace period, what the worker keeps back to hand an unfinished batch back and close. */
const SHUTDOWN_RESERVE_MS = 5_000;

/** The worker pods' label selector in string form (the scale subresource's status.selector). */
export function poolSelector(poolName: string): string {
  return `${POOL_LABEL}=${poolName}`;
}

/**
 * WORKER_SHUTDOWN_GRACE_MS from the pod's terminationGracePeriodSeconds: the worker finishes
 * its batch for all but the last 5 s (at most half) of the period, which it keeps to hand the
 * batch back and close before the kubelet's SIGKILL. One number to set, never two to keep in step.
 */
export function workerShutdownGraceMs(terminationGracePeriodSeconds: number): number {
  const periodMs = terminationGracePeriodSeconds * 1000;
  return periodMs - Math.min(SHUTDOWN_RESERVE_MS, Math.floor(periodMs / 2));
}

function envWithout(env: readonly V1EnvVar[], names: ReadonlySet<string>): V1EnvVar[] {
  return env.filter((entry) => !names.has(entry.name));
}

export function poolWorkerEnv(
  pool: WorkerPool,
  queues: readonly string[],
  settings: WorkerPodSettings,
): V1EnvVar[] {
  const graceSeconds =
    pool.spec.podTemplate?.terminationGracePeriodSeconds ?? DEFAULT_TERMINATION_GRACE_SECONDS;
  const owned: V1EnvVar[] = [
    { name: 'WORKER_MODE', value: 'queue' },
    { name: 'WORKER_QUEUES', value: queues.join(',') },
    { name: 'WORKER_PREFETCH', value: String(pool.spec.prefetch ?? 1) },
    { name: 'WORKER_SHUTDOWN_GRACE_MS', value: String(workerShutdownGraceMs(graceSeconds)) },
    // Also the worker's AMQP connection name: how the operator finds each pod's unacked count.
    { name: 'WORKER_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
  ];
  const poolEnv = (pool.spec.env ?? []) as V1EnvVar[];
  const operatorEnv = Object.entries(settings.env).map(([name, value]) => ({ name, value }));
  return [
    ...envWithout(operatorEnv, new Set([...poolEnv, ...owned].map((entry) => entry.name))),
    ...envWithout(poolEnv, new Set(owned.map((entry) => entry.name))),
    ...owned,
  ];
}

export function poolDeployment(
  pool: WorkerPool,
  queues: readonly string[],
  replicas: number,
  settings: WorkerPodSettings,
): V1Deployment {
  const name = pool.metadata?.name ?? '';
  const template = pool.spec.podTemplate ?? {};
  const selector = { [POOL_LABEL]: name };
  const labels = {
    'app.kubernetes.io/name': 'model-runner-worker',
    'app.kubernetes.io/managed-by': 'model-runner',
    ...selector,
  };
  const container: V1Container = {
    name: 'worker',
    image: pool.spec.image,
    env: poolWorkerEnv(pool, queues, settings),
    envFrom: [
      { secretRef: { name: settings.secretName } },
      ...((pool.spec.envFrom ?? []) as V1EnvFromSource[]),
    ],
  };
  if (pool.spec.imagePullPolicy) container.imagePullPolicy = pool.spec.imagePullPolicy;
  if (pool.spec.resources) container.resources = pool.spec.resources as V1ResourceRequirements;
  const schedulerName = template.schedulerName ?? settings.schedulerName;
  const podSpec: V1PodSpec = {
    terminationGracePeriodSeconds:
      template.terminationGracePeriodSeconds ?? DEFAULT_TERMINATION_GRACE_SECONDS,
    containers: [container],
  };
  if (schedulerName) podSpec.schedulerName = schedulerName;
  if (template.serviceAccountName) podSpec.serviceAccountName = template.serviceAccountName;
  if (template.priorityClassName) podSpec.priorityClassName = template.priorityClassName;
  if (template.nodeSelector) podSpec.nodeSelector = template.nodeSelector as Record<string, string>;
  const podMetadata: NonNullable<NonNullable<V1Deployment['spec']>['template']['metadata']> = {
    labels: { ...template.metadata?.labels, ...labels },
  };
  if (template.metadata?.annotations)
    podMetadata.annotations = { ...template.metadata.annotations } as Record<string, string>;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name,
      namespace: pool.metadata?.namespace,
      labels,
      ownerReferences: [
        {
          apiVersion: `${API_GROUP}/${API_VERSION}`,
          kind: 'WorkerPool',
          name,
          uid: pool.metadata?.uid ?? '',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      replicas,
      selector: { matchLabels: selector },
      revisionHistoryLimit: 3,
      template: { metadata: podMetadata, spec: podSpec },
    },
  };
}
