// Server-side apply of any object (built-in kinds and custom resources alike) through the
// generic object API: create or update in one call, owning the fields it names.
import { type KubernetesObject, PatchStrategy } from '@kubernetes/client-node';
import type { KubeClients } from './kubeClients.ts';

export async function applyObject<T extends KubernetesObject>(
  kube: KubeClients,
  object: T,
  fieldManager: string,
): Promise<T> {
  return kube.objects.patch(object, undefined, undefined, fieldManager, true, PatchStrategy.ServerSideApply);
}
