// Which namespaces this operator serves: all of them, one (WATCH_NAMESPACE), or those whose
// labels match the configured selector (a shared cluster where another team runs its own
// operator, or the local stack, where the tests run operators of their own in namespaces
// labelled model-runner.dev/test). A reconcile for a namespace outside is skipped.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { ListWatchClient } from '../adapters/kube/index.ts';
import type { Logger } from 'pino';
import { Informer } from './runtime/index.ts';

export interface NamespaceFilter {
  allows(namespace: string): boolean;
  start(): void;
  stop(): Promise<void>;
}

export function namespaceFilter(
  selector: string | undefined,
  client: ListWatchClient,
  log: Logger,
): NamespaceFilter {
  if (selector === undefined)
    return { allows: () => true, start: () => undefined, stop: async () => undefined };
  const namespaces = new Informer<KubernetesObject>({
    name: 'namespaces',
    resource: { group: '', version: 'v1', plural: 'namespaces', labelSelector: selector },
    client,
    log,
  });
  return {
    allows: (namespace) => namespaces.get('', namespace) !== undefined,
    start: () => namespaces.start(),
    stop: () => namespaces.stop(),
  };
}
