// Which namespaces this operator serves: all of them, one (WATCH_NAMESPACE), or those whose
// labels match the configured selector (a shared cluster where another team runs its own
// operator, or the local stack, where the tests run operators of their own in namespaces
// labelled model-runner.dev/test). A reconcile for a namespace outside is skipped.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { ListWatchClient } from '../adapters/kube/index.ts';
import type { Logger } from 'pino';
import { Informer, parseObjectKey } from './runtime/index.ts';

type Reconcile<T> = (key: string, signal: AbortSignal, log: Logger) => Promise<T>;

export interface NamespaceFilter {
  /** The reconcile, skipped for keys of namespaces outside. */
  guard<T>(reconcile: Reconcile<T>): Reconcile<T | undefined>;
  start(): void;
  stop(): Promise<void>;
}

function guarded<T>(
  allows: (namespace: string) => boolean,
  reconcile: Reconcile<T>,
): Reconcile<T | undefined> {
  return async (key, signal, log) =>
    allows(parseObjectKey(key).namespace) ? reconcile(key, signal, log) : undefined;
}

export function namespaceFilter(
  selector: string | undefined,
  client: ListWatchClient,
  log: Logger,
): NamespaceFilter {
  if (selector === undefined)
    return {
      guard: (reconcile) => reconcile,
      start: () => undefined,
      stop: async () => undefined,
    };
  const namespaces = new Informer<KubernetesObject>({
    name: 'namespaces',
    resource: { group: '', version: 'v1', plural: 'namespaces', labelSelector: selector },
    client,
    log,
  });
  const allows = (namespace: string) => namespaces.get('', namespace) !== undefined;
  return {
    guard: (reconcile) => guarded(allows, reconcile),
    start: () => namespaces.start(),
    stop: () => namespaces.stop(),
  };
}
