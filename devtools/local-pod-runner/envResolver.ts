// A container's environment, resolved the way the kubelet does it: envFrom first
// (later sources win), then env in order; literal values may refer to variables
// defined before them with `$(NAME)`; valueFrom values are taken verbatim. The
// Secrets and ConfigMaps are fetched by the caller beforehand (see
// referencedEnvSources), so this stays pure.
import type { V1Container } from '@kubernetes/client-node';
import { expandVariables, lookupIn } from './variableExpansion.ts';

/** Data of the Secrets (decoded) and ConfigMaps a container refers to; null means "not found". */
export interface EnvSources {
  configMaps: ReadonlyMap<string, Readonly<Record<string, string>> | null>;
  secrets: ReadonlyMap<string, Readonly<Record<string, string>> | null>;
}

/** What `fieldRef` can read: the pod as it runs here. */
export interface PodFieldValues {
  name: string;
  namespace: string;
  uid: string;
  labels: Readonly<Record<string, string>>;
  annotations: Readonly<Record<string, string>>;
  nodeName: string;
  serviceAccountName: string;
  hostIP: string;
  podIP: string;
}

export type EnvResolution =
  | { ok: true; env: Map<string, string> }
  | { ok: false; reason: 'CreateContainerConfigError'; message: string };

type EnvContainer = Pick<V1Container, 'env' | 'envFrom'>;

/** The names of the ConfigMaps and Secrets a container's env and envFrom read. */
export function referencedEnvSources(container: EnvContainer): { configMaps: string[]; secrets: string[] } {
  const configMaps = new Set<string>();
  const secrets = new Set<string>();
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef?.name) configMaps.add(source.configMapRef.name);
    if (source.secretRef?.name) secrets.add(source.secretRef.name);
  }
  for (const variable of container.env ?? []) {
    const ref = variable.valueFrom;
    if (ref?.configMapKeyRef?.name) configMaps.add(ref.configMapKeyRef.name);
    if (ref?.secretKeyRef?.name) secrets.add(ref.secretKeyRef.name);
  }
  return { configMaps: [...configMaps], secrets: [...secrets] };
}

// Kubernetes accepts any printable ASCII but '=' in a variable name; keys of an
// envFrom source that are not such a name are skipped, as the kubelet skips them.
const ENV_NAME = /^[\x20-\x3c\x3e-\x7e]+$/;

export function isEnvVarName(name: string): boolean {
  return ENV_NAME.test(name);
}

type Lookup = { found: true; value: string } | { found: false; message: string };

function lookupKey(
  kind: 'ConfigMap' | 'Secret',
  sources: EnvSources['configMaps'],
  namespace: string,
  name: string,
  key: string,
): Lookup {
  const data = sources.get(name);
  if (!data) return { found: false, message: `${kind.toLowerCase()} "${name}" not found` };
  const value = data[key];
  if (value === undefined)
    return { found: false, message: `couldn't find key ${key} in ${kind} ${namespace}/${name}` };
  return { found: true, value };
}

const LABEL_FIELD = /^metadata\.labels\['([^']*)'\]$/;
const ANNOTATION_FIELD = /^metadata\.annotations\['([^']*)'\]$/;

/** The value of a downward-API field path, or undefined when this runner does not know it. */
export function podFieldValue(fieldPath: string, pod: PodFieldValues): string | undefined {
  switch (fieldPath) {
    case 'metadata.name':
      return pod.name;
    case 'metadata.namespace':
      return pod.namespace;
    case 'metadata.uid':
      return pod.uid;
    case 'spec.nodeName':
      return pod.nodeName;
    case 'spec.serviceAccountName':
      return pod.serviceAccountName;
    case 'status.hostIP':
    case 'status.hostIPs':
      return pod.hostIP;
    case 'status.podIP':
    case 'status.podIPs':
      return pod.podIP;
  }
  const label = LABEL_FIELD.exec(fieldPath);
  if (label) return pod.labels[label[1]!] ?? '';
  const annotation = ANNOTATION_FIELD.exec(fieldPath);
  if (annotation) return pod.annotations[annotation[1]!] ?? '';
  return undefined;
}

function configError(message: string): EnvResolution {
  return { ok: false, reason: 'CreateContainerConfigError', message };
}

/**
 * `baseEnv` holds what the kubelet adds itself (the API server's address): the container's
 * env may refer to it with `$(NAME)` and override it.
 */
export function resolveContainerEnv(
  container: EnvContainer,
  pod: PodFieldValues,
  sources: EnvSources,
  baseEnv: ReadonlyMap<string, string> = new Map(),
): EnvResolution {
  const env = new Map(baseEnv);

  for (const source of container.envFrom ?? []) {
    const prefix = source.prefix ?? '';
    const ref = source.configMapRef ?? source.secretRef;
    const kind = source.configMapRef ? 'ConfigMap' : 'Secret';
    if (!ref?.name) continue;
    const data = (kind === 'ConfigMap' ? sources.configMaps : sources.secrets).get(ref.name);
    if (!data) {
      if (ref.optional) continue;
      return configError(`${kind.toLowerCase()} "${ref.name}" not found`);
    }
    for (const [key, value] of Object.entries(data)) {
      if (isEnvVarName(prefix + key)) env.set(prefix + key, value);
    }
  }

  for (const variable of container.env ?? []) {
    const from = variable.valueFrom;
    if (variable.value || !from) {
      env.set(variable.name, expandVariables(variable.value ?? '', lookupIn(env)));
      continue;
    }
    if (from.fieldRef) {
      const value = podFieldValue(from.fieldRef.fieldPath, pod);
      if (value === undefined) {
        return configError(`env ${variable.name}: fieldRef ${from.fieldRef.fieldPath} is not supported`);
      }
      env.set(variable.name, value);
    } else if (from.configMapKeyRef || from.secretKeyRef) {
      const kind = from.configMapKeyRef ? 'ConfigMap' : 'Secret';
      const ref = (from.configMapKeyRef ?? from.secretKeyRef)!;
      const found = lookupKey(
        kind,
        kind === 'ConfigMap' ? sources.configMaps : sources.secrets,
        pod.namespace,
        ref.name ?? '',
        ref.key,
      );
      if (found.found) env.set(variable.name, found.value);
      else if (!ref.optional) return configError(found.message);
    } else {
      return configError(
        `env ${variable.name}: only value, fieldRef, configMapKeyRef and secretKeyRef are supported`,
      );
    }
  }
  return { ok: true, env };
}

/** command and args with `$(NAME)` references replaced from the resolved environment. */
export function expandCommandLine(parts: readonly string[], env: ReadonlyMap<string, string>): string[] {
  return parts.map((part) => expandVariables(part, lookupIn(env)));
}
