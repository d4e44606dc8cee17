// Plays the scheduler for pods that ask for this runner by schedulerName: binds
// them to its node through the pods/binding subresource, as kube-scheduler does.
import type { CoreV1Api } from '@kubernetes/client-node';
import { isConflict, isNotFound } from '../../adapters/kube/index.ts';

/** Binds the pod to the node; false when someone bound it first or it is gone. */
export async function bindPod(
  core: CoreV1Api,
  pod: { namespace: string; name: string; uid: string },
  nodeName: string,
): Promise<boolean> {
  try {
    await core.createNamespacedPodBinding({
      namespace: pod.namespace,
      name: pod.name,
      body: {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name: pod.name, namespace: pod.namespace, uid: pod.uid },
        target: { apiVersion: 'v1', kind: 'Node', name: nodeName },
      },
    });
    return true;
  } catch (error) {
    // 409: already bound; 404: deleted meanwhile.
    if (isConflict(error) || isNotFound(error)) return false;
    throw error;
  }
}
