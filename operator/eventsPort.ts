// A controller's events port on the shared recorder: the controllers name a transition; the
// wiring adds what the API needs to point the Event at the object (its apiVersion and kind,
// which objects read from a typed client may lack) and the action the controller took.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { EventRecorder } from '../adapters/kube/index.ts';

export interface ObjectEvents<T extends KubernetesObject> {
  record(object: T, type: 'Normal' | 'Warning', reason: string, note: string): void;
}

/** Events are written on the side: a failed write is logged by the recorder, never awaited. */
export function eventsPort<T extends KubernetesObject>(
  recorder: EventRecorder,
  kind: { apiVersion: string; kind: string },
  action: string,
): ObjectEvents<T> {
  return {
    record: (object, type, reason, note) => {
      void recorder.record({ ...object, ...kind }, { type, reason, note, action });
    },
  };
}
