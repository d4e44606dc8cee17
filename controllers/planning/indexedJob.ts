// The Indexed Job of a ModelRun with executor `job`: one completion index per batch of the
// run's range. Pods derive their batch from the index and the run (WORKER_RUN) with the same
// planning the controller uses, so no batch list travels; retries are the Job's own
// (backoffLimitPerIndex = maxRetriesPerBatch), one attempt per pod.
import { createHash } from 'node:crypto';
import type {
  V1Container,
  V1EnvFromSource,
  V1EnvVar,
  V1Job,
  V1ResourceRequirements,
} from '@kubernetes/client-node';
import type { RunRequest } from '../../contract/batchMessage.ts';
import { API_GROUP, API_VERSION } from '../../crds/kinds.ts';
import type { ModelRun } from '../../crds/generated/types.ts';

/** What every worker pod gets from the operator's configuration (nothing secret). */
export interface WorkerPodSettings {
  image: string;
  /** The Secret in the run's namespace whose keys are the worker's credential env vars. */
  secretName: string;
  /** e.g. `local-pod-runner` on the local stack; omitted: the cluster's scheduler. */
  schedulerName?: string;
  /** Non-secret settings (LAKE_URL, CLICKHOUSE_DATABASE, SINK_ENV, …). */
  env: Readonly<Record<string, string>>;
}

export const RUN_LABEL = `${API_GROUP}/run`;
export const RUN_UID_LABEL = `${API_GROUP}/run-uid`;
const DNS_LABEL_MAX = 63;

/**
 * The Job's name: the run's, when `<name>-<last index>` (a pod's hostname) fits a DNS label;
 * otherwise shortened and made unique by a hash of the run's uid.
 */
export function jobNameFor(runName: string, runUid: string, completions: number): string {
  const indexDigits = String(Math.max(0, completions - 1)).length;
  const room = DNS_LABEL_MAX - 1 - indexDigits;
  if (runName.length <= room) return runName;
  const hash = createHash('sha256').update(runUid).digest('hex').slice(0, 8);
  return `${runName.slice(0, room - hash.length - 1).replace(/-+$/, '')}-${hash}`;
}

/** Completion indexes as the Job's status writes them: `1,3-5,7`. */
export function parseIndexes(text: string | undefined): Set<number> {
  const indexes = new Set<number>();
  for (const part of (text ?? '').split(',')) {
    const match = /^\s*(\d+)(?:-(\d+))?\s*$/.exec(part);
    if (!match) continue;
    const first = Number(match[1]);
    const last = match[2] === undefined ? first : Number(match[2]);
    for (let index = first; index <= last; index += 1) indexes.add(index);
  }
  return indexes;
}

export function indexedJobFor(
  run: ModelRun,
  request: RunRequest,
  completions: number,
  settings: WorkerPodSettings,
): V1Job {
  const name = run.metadata?.name ?? '';
  const uid = run.metadata?.uid ?? '';
  const job = run.spec.job ?? {};
  const labels = {
    'app.kubernetes.io/name': 'model-runner-worker',
    'app.kubernetes.io/managed-by': 'model-runner',
    [RUN_LABEL]: name,
    [RUN_UID_LABEL]: uid,
  };
  const env: V1EnvVar[] = [
    ...Object.entries(settings.env).map(([envName, value]) => ({ name: envName, value })),
    ...((job.env ?? []) as V1EnvVar[]),
    { name: 'WORKER_MODE', value: 'job' },
    { name: 'WORKER_RUN', value: JSON.stringify(request) },
    { name: 'WORKER_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    {
      name: 'JOB_INDEX_FAILURE_COUNT',
      valueFrom: {
        fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-index-failure-count']" },
      },
    },
  ];
  const container: V1Container = {
    name: 'worker',
    image: job.image ?? settings.image,
    env,
    envFrom: [{ secretRef: { name: settings.secretName } }, ...((job.envFrom ?? []) as V1EnvFromSource[])],
  };
  if (job.resources) container.resources = job.resources as V1ResourceRequirements;
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: jobNameFor(name, uid, completions),
      namespace: run.metadata?.namespace,
      labels,
      ownerReferences: [
        {
          apiVersion: `${API_GROUP}/${API_VERSION}`,
          kind: 'ModelRun',
          name,
          uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      completionMode: 'Indexed',
      completions,
      parallelism: Math.min(job.parallelism ?? 1, completions),
      backoffLimitPerIndex: request.maxRetriesPerBatch,
      // A replacement pod starts only once the old one has failed: never two pods for one batch.
      podReplacementPolicy: 'Failed',
      suspend: run.spec.suspend ?? false,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          ...(settings.schedulerName ? { schedulerName: settings.schedulerName } : {}),
          ...(job.serviceAccountName ? { serviceAccountName: job.serviceAccountName } : {}),
          containers: [container],
        },
      },
    },
  };
}
