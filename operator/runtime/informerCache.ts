// The informer's cache as pure steps: fold a watch event or a fresh list into the map of
// objects by key, and say what changed. A key whose uid changed is a different object that
// happens to share the name (deleted and recreated while we were not watching): that is a
// delete of the old one and an add of the new one, never an update.
import type { KubernetesObject } from '@kubernetes/client-node';
import { objectKey } from './objectKeys.ts';

export type CacheChange<T> =
  | { type: 'add'; object: T }
  | { type: 'update'; object: T; oldObject: T }
  | { type: 'delete'; object: T; oldObject: T };

function upsert<T extends KubernetesObject>(cache: Map<string, T>, object: T): CacheChange<T>[] {
  // The API server's bookkeeping for server-side apply: no controller reads it, and with
  // thousands of cached objects it is a large share of the operator's memory.
  if (object.metadata?.managedFields) delete object.metadata.managedFields;
  const key = objectKey(object);
  const cached = cache.get(key);
  cache.set(key, object);
  if (!cached) return [{ type: 'add', object }];
  const cachedUid = cached.metadata?.uid;
  const uid = object.metadata?.uid;
  if (cachedUid && uid && cachedUid !== uid) {
    return [
      { type: 'delete', object: cached, oldObject: cached },
      { type: 'add', object },
    ];
  }
  const version = object.metadata?.resourceVersion;
  if (version && version === cached.metadata?.resourceVersion) return [];
  return [{ type: 'update', object, oldObject: cached }];
}

/** Applies one ADDED, MODIFIED or DELETED event. */
export function applyWatchEvent<T extends KubernetesObject>(
  cache: Map<string, T>,
  type: 'ADDED' | 'MODIFIED' | 'DELETED',
  object: T,
): CacheChange<T>[] {
  if (type !== 'DELETED') return upsert(cache, object);
  const key = objectKey(object);
  const cached = cache.get(key);
  if (!cached) return [];
  cache.delete(key);
  return [{ type: 'delete', object, oldObject: cached }];
}

/** Makes the cache equal to a full list: new and changed objects, and deletes of those gone. */
export function replaceAll<T extends KubernetesObject>(
  cache: Map<string, T>,
  items: readonly T[],
): CacheChange<T>[] {
  const changes: CacheChange<T>[] = [];
  const listed = new Set<string>();
  for (const object of items) {
    listed.add(objectKey(object));
    changes.push(...upsert(cache, object));
  }
  for (const [key, cached] of cache) {
    if (listed.has(key)) continue;
    cache.delete(key);
    changes.push({ type: 'delete', object: cached, oldObject: cached });
  }
  return changes;
}

/**
 * Consecutive failures after one more error: back to 1 only when the informer had been
 * healthy (watching without error) for `healthyResetMs`. Resetting on every successful start
 * instead lets a server that accepts watches and drops them at once be hammered (#1933).
 */
export function failuresAfterError(
  previousFailures: number,
  healthySinceMs: number | undefined,
  nowMs: number,
  healthyResetMs: number,
): number {
  if (healthySinceMs !== undefined && nowMs - healthySinceMs >= healthyResetMs) return 1;
  return previousFailures + 1;
}
