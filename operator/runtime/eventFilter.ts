// Which changes to a controller's own (primary) objects wake it. Adds, deletes and resyncs
// always do. An update does only when the spec changed (metadata.generation moved) or the
// deletion started (deletionTimestamp newly set): the controller's own writes to status and
// to finalizers leave generation alone, so they never trigger another reconcile (KEDA's
// GenerationChangedPredicate). Anything else that should wake it is named explicitly by the
// controller as an exception, e.g. "the pause annotation changed".
import type { KubernetesObject } from '@kubernetes/client-node';

/** A named exception: true when this update should wake the controller although generation did not move. */
export type UpdateException<T> = (object: T, oldObject: T) => boolean;

export function generationChanged(object: KubernetesObject, oldObject: KubernetesObject): boolean {
  return object.metadata?.generation !== oldObject.metadata?.generation;
}

export function deletionStarted(object: KubernetesObject, oldObject: KubernetesObject): boolean {
  return !oldObject.metadata?.deletionTimestamp && Boolean(object.metadata?.deletionTimestamp);
}

/**
 * Why an update should wake the controller ('generation', 'deletion' or the name of the
 * exception that matched), or undefined when it should not. Kinds without
 * metadata.generation (ConfigMap, Secret) never change generation: a controller of one must
 * name the changes it cares about as exceptions.
 */
export function primaryUpdateTrigger<T extends KubernetesObject>(
  object: T,
  oldObject: T,
  exceptions: Readonly<Record<string, UpdateException<T>>> = {},
): string | undefined {
  if (generationChanged(object, oldObject)) return 'generation';
  if (deletionStarted(object, oldObject)) return 'deletion';
  return Object.entries(exceptions).find(([, exception]) => exception(object, oldObject))?.[0];
}

/** An exception for one annotation (e.g. a pause switch): wakes the controller when its value changes. */
export function annotationChanged<T extends KubernetesObject>(annotation: string): UpdateException<T> {
  return (object, oldObject) =>
    object.metadata?.annotations?.[annotation] !== oldObject.metadata?.annotations?.[annotation];
}
