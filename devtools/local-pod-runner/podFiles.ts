// Where a pod's files live on the host. Namespace, pod and container names come
// from the API server, but they become file names here, so they are checked
// against the Kubernetes name rules again before any path is built: a name that
// passes can hold no '/', no '_' and no '..', which keeps every path inside its
// directory and makes `<namespace>_<pod>_<container>` unambiguous.
import { join } from 'node:path';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function isDnsLabel(value: string): boolean {
  return value.length <= 63 && DNS_LABEL.test(value);
}

export function isDnsSubdomain(value: string): boolean {
  return value.length <= 253 && DNS_SUBDOMAIN.test(value);
}

/** Throws unless namespace, pod and (optionally) container are valid Kubernetes names. */
export function assertPodNames(namespace: string, pod: string, container?: string): void {
  if (!isDnsLabel(namespace)) throw new Error(`invalid namespace name ${JSON.stringify(namespace)}`);
  if (!isDnsSubdomain(pod)) throw new Error(`invalid pod name ${JSON.stringify(pod)}`);
  if (container !== undefined && !isDnsLabel(container)) {
    throw new Error(`invalid container name ${JSON.stringify(container)}`);
  }
}

/** `.stack/pods/<namespace>_<pod>_<container>.log`: the container's stdout and stderr. */
export function containerLogPath(podsDir: string, namespace: string, pod: string, container: string): string {
  assertPodNames(namespace, pod, container);
  return join(podsDir, `${namespace}_${pod}_${container}.log`);
}

/** `.stack/pods/<namespace>_<pod>/`: the pod's working directory and HOME unless workingDir says otherwise. */
export function podSandboxDir(podsDir: string, namespace: string, pod: string): string {
  assertPodNames(namespace, pod);
  return join(podsDir, `${namespace}_${pod}`);
}

/**
 * `.stack/pods/<namespace>_<pod>/var/run/secrets/kubernetes.io/serviceaccount/`: the pod's token,
 * CA and namespace, at the path a kubelet mounts them, under the sandbox.
 */
export function serviceAccountDir(podsDir: string, namespace: string, pod: string): string {
  return join(podSandboxDir(podsDir, namespace, pod), 'var/run/secrets/kubernetes.io/serviceaccount');
}

/** The record of a running container process, so a restarted runner can find what it left behind. */
export function processRecordPath(
  processesDir: string,
  namespace: string,
  pod: string,
  container: string,
): string {
  assertPodNames(namespace, pod, container);
  return join(processesDir, `${namespace}_${pod}_${container}.json`);
}

/** The work-queue key of a pod. */
export function podKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

export function parsePodKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  if (slash <= 0) throw new Error(`invalid pod key ${JSON.stringify(key)}`);
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
