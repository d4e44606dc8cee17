// The local stack's API server for tests: clients from stackEnv().KUBECONFIG, a
// namespace per test, and polling with a deadline and a clear failure message.
// Every test works in its own namespace so files can run in parallel and re-run
// without a reset; deleting the namespace at the end is tidiness, not correctness.
import type { KubeConfig } from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  createKubeClients,
  findOrUndefined,
  isNotFound,
  loadKubeConfig,
  type KubeClients,
} from '../../adapters/kube/index.ts';
import { uniqueName } from './names.ts';
import { stackEnv } from '../../devtools/stackEnv.ts';

export {
  apiStatusCode,
  findOrUndefined,
  isNotFound,
  mergePatch,
  serverSideApply,
  strategicMergePatch,
  type KubeClients,
} from '../../adapters/kube/index.ts';

/** The node (and schedulerName) of the stack's local pod runner: pods that set it really run. */
export const LOCAL_POD_RUNNER = 'local-pod-runner';

/** Marks namespaces created by tests, so a person can find leftovers: `kubectl get ns -l model-runner.dev/test`. */
export const TEST_NAMESPACE_LABEL = 'model-runner.dev/test';

let clients: KubeClients | undefined;

/** The admin kubeconfig of the running stack (throws, with what to do, when the stack is down). */
export function kubeConfig(): KubeConfig {
  return loadKubeConfig({ KUBECONFIG: stackEnv().KUBECONFIG });
}

export function kubeClients(): KubeClients {
  clients ??= createKubeClients(kubeConfig());
  return clients;
}

export interface PollOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Called on timeout; its result goes into the failure message (e.g. the object as last seen). */
  describe?: () => unknown;
}

/**
 * Calls `check` until it returns a value other than undefined, null or false, and
 * returns that value. Errors thrown by `check` count as "not yet" (the API server may
 * be briefly busy) and the last one is reported if time runs out.
 */
export async function pollUntil<T>(
  what: string,
  check: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  options: PollOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const intervalMs = options.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== null && value !== false) return value;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) break;
    await sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
  }
  let message = `timed out after ${timeoutMs / 1000}s waiting for ${what}`;
  if (lastError) message += `; last error: ${(lastError as Error).message ?? String(lastError)}`;
  if (options.describe) {
    let seen: unknown;
    try {
      seen = await options.describe();
    } catch (error) {
      seen = `(could not describe: ${(error as Error).message})`;
    }
    message += `; last seen: ${typeof seen === 'string' ? seen : JSON.stringify(seen)}`;
  }
  throw new Error(message);
}

/**
 * Creates a namespace named `<prefix>-<8 hex>` and waits for its default
 * ServiceAccount (the API server refuses pods in a namespace without it).
 */
export async function createTestNamespace(prefix: string): Promise<string> {
  const { core } = kubeClients();
  const name = uniqueName(prefix);
  await core.createNamespace({ body: { metadata: { name, labels: { [TEST_NAMESPACE_LABEL]: 'true' } } } });
  await pollUntil(`the default ServiceAccount of namespace ${name}`, () =>
    findOrUndefined(() => core.readNamespacedServiceAccount({ namespace: name, name: 'default' })),
  );
  return name;
}

/** Starts the namespace's deletion (the namespace controller finishes it); a missing namespace is fine. */
export async function deleteTestNamespace(name: string): Promise<void> {
  try {
    await kubeClients().core.deleteNamespace({ name, body: { propagationPolicy: 'Background' } });
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

/** Fails with what to do unless the stack's local pod runner has its node Ready. */
export async function requireLocalPodRunner(): Promise<void> {
  const node = await findOrUndefined(() => kubeClients().core.readNode({ name: LOCAL_POD_RUNNER }));
  const ready = node?.status?.conditions?.find((condition) => condition.type === 'Ready');
  if (ready?.status !== 'True') {
    throw new Error(
      `node ${LOCAL_POD_RUNNER} is ${node ? `not Ready (${ready?.reason ?? 'no Ready condition'})` : 'not registered'}: ` +
        `the local pod runner is not running; run 'make stack-up' (see .stack/logs/pod-runner.log)`,
    );
  }
}

/** `.stack/pods/<namespace>_<pod>_<container>.log`: where the local pod runner writes a container's output. */
export function podLogPath(namespace: string, pod: string, container: string): string {
  return join(stackEnv().MODEL_RUNNER_STACK_DIR, 'pods', `${namespace}_${pod}_${container}.log`);
}

/** `.stack/pods/<namespace>_<pod>/`: a pod's working directory under the local pod runner. */
export function podSandboxPath(namespace: string, pod: string): string {
  return join(stackEnv().MODEL_RUNNER_STACK_DIR, 'pods', `${namespace}_${pod}`);
}

/** The pid in a `process://<pid>` container ID, as the local pod runner reports it. */
export function pidOfContainer(containerID: string | undefined): number {
  const match = /^process:\/\/(\d+)$/.exec(containerID ?? '');
  if (!match) throw new Error(`container ID ${JSON.stringify(containerID)} is not a local process`);
  return Number(match[1]);
}

/** True while the process exists and is not a zombie (this machine's init reaps slowly). */
export function isProcessAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** The environment of a live process (from /proc), to tell which pod it belongs to. */
export function processEnvironment(pid: number): Record<string, string> {
  const entries = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);
  return Object.fromEntries(
    entries.map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
  );
}
