// Test namespaces, and kubectl and the CRD install from devtools/kubectl.ts (re-exported, so
// tests import their kube helpers from one place).
import { kubectl, kubectlOk } from '../../devtools/kubectl.ts';
import { uniqueName } from './names.ts';

export {
  generatedCrdsDir,
  installCrds,
  kubectl,
  kubectlBinDir,
  kubectlOk,
  type KubectlOptions,
  type KubectlResult,
} from '../../devtools/kubectl.ts';

/** Marks namespaces created by tests, so leftovers are easy to find: `kubectl get ns -l model-runner.dev/test`. */
const TEST_NAMESPACE_LABEL = 'model-runner.dev/test';

/** A fresh namespace for one test, named `<prefix>-<8 hex>`. */
export async function createTestNamespace(prefix: string): Promise<string> {
  const namespace = uniqueName(prefix);
  const manifest = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: namespace, labels: { [TEST_NAMESPACE_LABEL]: 'true' } },
  };
  await kubectlOk(['create', '--filename', '-'], { input: JSON.stringify(manifest) });
  return namespace;
}

/** Deletes a test namespace without waiting for its finalizers (cleanup only). */
export async function deleteTestNamespace(namespace: string): Promise<void> {
  await kubectl(['delete', 'namespace', namespace, '--wait=false', '--ignore-not-found']);
}
