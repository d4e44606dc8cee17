// The ModelSchedule controller's ports, served by the real clients: the informers' caches of
// ModelSchedules and ModelRuns, the Kubernetes API for writes (adapters/kube), ClickHouse for
// the markers and the chains' JSON-RPC endpoints (chainReader.ts).
import type { Logger } from 'pino';
import {
  type CustomResourceClient,
  type EventRecorder,
  type KubeClients,
  isAlreadyExists,
  isNotFound,
  mergePatch,
} from '../adapters/kube/index.ts';
import type { MarkerStore } from '../dataplane/markers.ts';
import type { ModelRun, ModelSchedule } from '../crds/generated/types.ts';
import { fieldManagerFor, MODEL_SCHEDULE } from '../crds/kinds.ts';
import type {
  ChainReader,
  ModelSchedulePorts,
  ModelScheduleSettings,
} from '../controllers/modelschedule/modelSchedulePorts.ts';
import { EXPIRED_BY_ANNOTATION, isOwnedBy } from '../controllers/planning/scheduledRuns.ts';
import type { Informer } from './runtime/index.ts';
import { eventsPort } from './eventsPort.ts';

export interface ModelScheduleWiring {
  kube: KubeClients;
  schedules: CustomResourceClient<ModelSchedule>;
  scheduleCache: Informer<ModelSchedule>;
  runs: CustomResourceClient<ModelRun>;
  runCache: Informer<ModelRun>;
  events: EventRecorder;
  markers: MarkerStore;
  /** The operator's one reader of the chains (chainReader.ts): one client and tip cache per chain. */
  chainReads: ChainReader;
  settings: ModelScheduleSettings;
  log: Logger;
}

export function modelSchedulePorts(wiring: ModelScheduleWiring): ModelSchedulePorts {
  const { schedules, runs, log } = wiring;
  const fieldManager = fieldManagerFor(MODEL_SCHEDULE);
  return {
    schedules: {
      get: (namespace, name) => wiring.scheduleCache.get(namespace, name),
      applyStatus: async (schedule, status) => {
        await schedules.applyStatus(schedule, status, fieldManager);
      },
    },
    runs: {
      ownedBy: (namespace, scheduleUid) =>
        wiring.runCache
          .list()
          .filter((run) => run.metadata?.namespace === namespace && isOwnedBy(run, scheduleUid)),
      find: (namespace, name) => wiring.runCache.get(namespace, name),
      create: async (run) => {
        try {
          return { created: true, run: await runs.create(run.metadata?.namespace ?? '', run) };
        } catch (error) {
          if (isAlreadyExists(error)) return { created: false };
          throw error;
        }
      },
      expire: async (namespace, name, uid, activeDeadlineSeconds) => {
        try {
          // The uid makes the patch fail rather than touch a new run of the same name.
          await wiring.kube.customObjects.patchNamespacedCustomObject(
            {
              group: runs.type.group,
              version: runs.type.version,
              plural: runs.type.plural,
              namespace,
              name,
              body: {
                metadata: { uid, annotations: { [EXPIRED_BY_ANNOTATION]: 'progressDeadlineSeconds' } },
                spec: { activeDeadlineSeconds },
              },
            },
            mergePatch,
          );
        } catch (error) {
          if (!isNotFound(error)) throw error;
        }
      },
      delete: async (namespace, name, uid) => {
        await runs.delete(namespace, name, { propagationPolicy: 'Background', uid });
      },
    },
    markers: wiring.markers,
    chains: wiring.chainReads,
    events: eventsPort(
      wiring.events,
      { apiVersion: schedules.apiVersion, kind: 'ModelSchedule' },
      'Schedule',
    ),
    settings: wiring.settings,
    clock: () => new Date(),
    log,
  };
}
