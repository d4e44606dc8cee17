// The runner's calls to the API server about pods, in its own words, on the project's one
// Kubernetes adapter (patch options, error helpers).
import type {
  AuthenticationV1TokenRequest,
  CoreV1Api,
  V1Pod,
  V1ServiceAccount,
} from '@kubernetes/client-node';
import { findOrUndefined, isConflict, isNotFound, strategicMergePatch } from '../../adapters/kube/index.ts';
import type { EnvSources } from './envResolver.ts';
import { FIELD_MANAGER } from './nodeRegistration.ts';
import type { ComputedPodStatus } from './podStatus.ts';

export interface PodApi {
  /** The pod, or undefined when it does not exist. */
  readPod(namespace: string, name: string): Promise<V1Pod | undefined>;
  /** Pods that ask for this runner, or run on its node. */
  listPods(fieldSelector: string): Promise<V1Pod[]>;
  /** Writes status the way the kubelet does: a strategic merge patch carrying the pod's uid. */
  patchPodStatus(
    namespace: string,
    name: string,
    uid: string,
    status: ComputedPodStatus,
  ): Promise<'sent' | 'gone'>;
  /** Deletes the pod now (grace period 0), only if it is still the pod with this uid. */
  deletePodNow(namespace: string, name: string, uid: string): Promise<void>;
  readEnvSources(namespace: string, names: { configMaps: string[]; secrets: string[] }): Promise<EnvSources>;
  /** The ServiceAccount, or undefined when it does not exist. */
  readServiceAccount(namespace: string, name: string): Promise<V1ServiceAccount | undefined>;
  /** A token for the ServiceAccount from the TokenRequest API, and when it expires. */
  requestServiceAccountToken(
    namespace: string,
    serviceAccountName: string,
    request: AuthenticationV1TokenRequest,
  ): Promise<{ token: string; expiresAt: Date }>;
}

export function podApi(core: CoreV1Api): PodApi {
  function readPod(namespace: string, name: string): Promise<V1Pod | undefined> {
    return findOrUndefined(() => core.readNamespacedPod({ namespace, name }));
  }

  return {
    readPod,

    async listPods(fieldSelector) {
      return (await core.listPodForAllNamespaces({ fieldSelector })).items;
    },

    async patchPodStatus(namespace, name, uid, status) {
      try {
        // Conditions merge by type in a strategic merge patch: a reason or message that
        // no longer applies must be cleared explicitly with null.
        const conditions = status.conditions.map((condition) => ({
          reason: null,
          message: null,
          ...condition,
        }));
        await core.patchNamespacedPodStatus(
          {
            namespace,
            name,
            fieldManager: FIELD_MANAGER,
            body: { metadata: { uid }, status: { ...status, conditions } },
          },
          strategicMergePatch,
        );
        return 'sent';
      } catch (error) {
        // 404: deleted; 409: a new pod with the same name (the uid no longer matches).
        if (isNotFound(error) || isConflict(error)) return 'gone';
        throw error;
      }
    },

    async deletePodNow(namespace, name, uid) {
      // On a pod that is already terminating, the first delete only shortens its grace
      // period to 0; a second one removes it (the kubelet relies on the same two steps).
      // Finalizers of others (Job tracking) may keep it a while longer: theirs to remove.
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          // With a body, the API server reads the options from the body only (not the query).
          await core.deleteNamespacedPod({
            namespace,
            name,
            body: { gracePeriodSeconds: 0, preconditions: { uid } },
          });
        } catch (error) {
          // 409: the uid precondition failed, a new pod has the name.
          if (isNotFound(error) || isConflict(error)) return;
          throw error;
        }
        const left = await readPod(namespace, name);
        if (!left || left.metadata?.uid !== uid || (left.metadata?.finalizers ?? []).length > 0) return;
      }
    },

    async readEnvSources(namespace, names) {
      const configMaps = new Map<string, Record<string, string> | null>();
      const secrets = new Map<string, Record<string, string> | null>();
      await Promise.all([
        ...names.configMaps.map(async (name) => {
          try {
            configMaps.set(name, (await core.readNamespacedConfigMap({ namespace, name })).data ?? {});
          } catch (error) {
            if (!isNotFound(error)) throw error;
            configMaps.set(name, null);
          }
        }),
        ...names.secrets.map(async (name) => {
          try {
            const data = (await core.readNamespacedSecret({ namespace, name })).data ?? {};
            secrets.set(
              name,
              Object.fromEntries(
                Object.entries(data).map(([key, value]) => [
                  key,
                  Buffer.from(value, 'base64').toString('utf8'),
                ]),
              ),
            );
          } catch (error) {
            if (!isNotFound(error)) throw error;
            secrets.set(name, null);
          }
        }),
      ]);
      return { configMaps, secrets };
    },

    readServiceAccount(namespace, name) {
      return findOrUndefined(() => core.readNamespacedServiceAccount({ namespace, name }));
    },

    async requestServiceAccountToken(namespace, serviceAccountName, request) {
      const response = await core.createNamespacedServiceAccountToken({
        namespace,
        name: serviceAccountName,
        body: request,
      });
      const token = response.status?.token;
      const expiration = response.status?.expirationTimestamp;
      if (!token || !expiration) throw new Error('the TokenRequest answer carries no token or expiry');
      // Objects may carry times as Date or as string, depending on how they were decoded.
      return { token, expiresAt: new Date(expiration) };
    },
  };
}
