// The work-queue key of an object: "namespace/name", or "name" for a cluster-scoped object,
// as client-go's MetaNamespaceKeyFunc. Names cannot contain "/", so the split is unambiguous.
import type { KubernetesObject } from '@kubernetes/client-node';

export interface ObjectName {
  /** '' for a cluster-scoped object. */
  namespace: string;
  name: string;
}

export function objectKey(object: KubernetesObject): string {
  const name = object.metadata?.name;
  if (!name) throw new Error(`a ${object.kind ?? 'object'} without metadata.name has no key`);
  return keyOf(object.metadata?.namespace ?? '', name);
}

export function keyOf(namespace: string, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

export function parseObjectKey(key: string): ObjectName {
  const parts = key.split('/');
  if (parts.length === 1 && parts[0]) return { namespace: '', name: parts[0] };
  if (parts.length === 2 && parts[0] && parts[1]) return { namespace: parts[0], name: parts[1] };
  throw new Error(`invalid object key ${JSON.stringify(key)}`);
}

/**
 * Maps an owned object (a Job, a Deployment) to the key of its controller owner of the given
 * kind, for a controller's secondary informer: a change to the Job wakes its ModelRun.
 */
export function controllerOwnerKeys(owner: { apiVersion: string; kind: string }) {
  return (object: KubernetesObject): string[] => {
    const reference = object.metadata?.ownerReferences?.find((each) => each.controller === true);
    if (!reference || reference.kind !== owner.kind || reference.apiVersion !== owner.apiVersion) return [];
    return [keyOf(object.metadata?.namespace ?? '', reference.name)];
  };
}
