// The ModelRun controller's ports, served by the real clients: the Kubernetes API (through
// adapters/kube), RabbitMQ (one shared connection), Redis (the run ledger), ClickHouse (the
// markers) and the chains' JSON-RPC endpoints (the safe tip, through the shared chainReader.ts).
import type { V1Job } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import {
  type CustomResourceClient,
  type EventRecorder,
  type KubeClients,
  findOrUndefined,
  isNotFound,
  mergePatch,
  metadataOnly,
} from '../adapters/kube/index.ts';
import type { BatchDispatcher } from '../adapters/rabbitmq/batchDispatcher.ts';
import type { RunProgressStore } from '../adapters/redis/progress.ts';
import { MarkerReadCoalescer } from '../dataplane/markerReadCoalescer.ts';
import type { MarkerStore } from '../dataplane/markers.ts';
import type { ModelRun } from '../crds/generated/types.ts';
import { fieldManagerFor, MODEL_RUN } from '../crds/kinds.ts';
import type { ModelRunPorts, ModelRunSettings } from '../controllers/modelrun/modelRunPorts.ts';
import type { ChainReader } from '../controllers/modelschedule/modelSchedulePorts.ts';
import type { Informer } from './runtime/index.ts';
import { eventsPort } from './eventsPort.ts';

export interface ModelRunWiring {
  kube: KubeClients;
  runs: CustomResourceClient<ModelRun>;
  runCache: Informer<ModelRun>;
  events: EventRecorder;
  markers: MarkerStore;
  progress: RunProgressStore;
  dispatcher: BatchDispatcher;
  /** The operator's one reader of the chains (chainReader.ts): one client and tip cache per chain. */
  chainReads: ChainReader;
  settings: ModelRunSettings;
  log: Logger;
}

export function modelRunPorts(wiring: ModelRunWiring): ModelRunPorts {
  const { kube, runs, progress, log } = wiring;
  const fieldManager = fieldManagerFor(MODEL_RUN);
  const completeReads = new MarkerReadCoalescer(wiring.markers);
  return {
    runs: {
      get: (namespace, name) => wiring.runCache.get(namespace, name),
      applyStatus: async (run, status) => {
        await runs.applyStatus(run, status, fieldManager);
      },
      addFinalizer: (run, finalizer) => runs.addFinalizer(run, finalizer),
      removeFinalizer: async (run, finalizer) => {
        await runs.removeFinalizer(run, finalizer);
      },
      delete: async (run) => {
        await runs.delete(run.metadata?.namespace ?? '', run.metadata?.name ?? '', {
          propagationPolicy: 'Background',
          uid: run.metadata?.uid,
        });
      },
    },
    jobs: {
      get: (namespace, name) => findOrUndefined(() => kube.batch.readNamespacedJob({ namespace, name })),
      create: async (job: V1Job) => {
        await kube.batch.createNamespacedJob({ namespace: job.metadata?.namespace ?? '', body: job });
      },
      setSuspend: async (namespace, name, suspend) => {
        await kube.batch.patchNamespacedJob({ namespace, name, body: { spec: { suspend } } }, mergePatch);
      },
      delete: async (namespace, name) => {
        try {
          await kube.batch.deleteNamespacedJob({ namespace, name, propagationPolicy: 'Background' });
        } catch (error) {
          if (!isNotFound(error)) throw error;
        }
      },
    },
    secrets: {
      // Metadata only: the operator learns that the Secret exists, never what it holds.
      exists: async (namespace, name) =>
        (await findOrUndefined(() => kube.core.readNamespacedSecret({ namespace, name }, metadataOnly))) !==
        undefined,
    },
    // Runs reconciled at once share their marker queries (markerReadCoalescer.ts).
    markers: {
      batchesCompleteInAll: (chain, rootPaths, ranges) =>
        completeReads.batchesCompleteInAll(chain, rootPaths, ranges),
      dayRanges: (query) => wiring.markers.dayRanges(query),
    },
    ledger: {
      outcomes: (uid) => progress.readOutcomes(uid),
      progress: async (uid) => {
        const read = await progress.readProgress(uid);
        const failures = new Map(
          read.failedBatches.map((failure) => [
            failure.batchId,
            { error: failure.error, attempt: failure.attempt, failedAt: failure.failedAt },
          ]),
        );
        return read.lastProgressAt ? { failures, lastProgressAt: read.lastProgressAt } : { failures };
      },
      dispatched: (uid) => progress.readDispatched(uid),
      recordDispatched: (uid, ids) => progress.recordDispatched(uid, ids),
      markCancelled: (uid) => progress.markCancelled(uid),
    },
    queues: wiring.dispatcher,
    tips: wiring.chainReads,
    events: eventsPort(wiring.events, { apiVersion: runs.apiVersion, kind: 'ModelRun' }, 'Reconcile'),
    settings: wiring.settings,
    clock: () => new Date(),
    log,
  };
}
