// A second local pod runner for a test, started from this checkout: its own node (and
// schedulerName), a free health port, output to a file. The stack's own runner runs the
// code of the checkout the stack was started from; a test of the runner's code starts its own.
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findOrUndefined, isNotFound, kubeClients, pollUntil } from './kube.ts';
import { repoRoot, stackEnv } from '../../devtools/stackEnv.ts';

/** Starts a runner serving `nodeName`; its output is appended to `logFile`. Stop it with stopLocalPodRunner. */
export function startLocalPodRunner(nodeName: string, logFile: string): ChildProcess {
  const log = openSync(logFile, 'a');
  const child = spawn(process.execPath, [join(repoRoot, 'devtools/local-pod-runner/main.ts')], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      KUBECONFIG: stackEnv().KUBECONFIG,
      MODEL_RUNNER_STACK_DIR: stackEnv().MODEL_RUNNER_STACK_DIR,
      LOCAL_POD_RUNNER_NODE_NAME: nodeName,
      LOCAL_POD_RUNNER_HEALTH_PORT: '0',
    },
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  return child;
}

/** Sends the signal to the runner (by its pid) and waits for it to exit; nothing when it has exited. */
export async function stopLocalPodRunner(
  child: ChildProcess | undefined,
  signal: NodeJS.Signals,
): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
}

export async function isNodeReady(nodeName: string): Promise<boolean> {
  const node = await findOrUndefined(() => kubeClients().core.readNode({ name: nodeName }));
  return (
    node?.status?.conditions?.some(
      (condition) => condition.type === 'Ready' && condition.status === 'True',
    ) ?? false
  );
}

/** Waits (30 s at most) until the runner has registered its node and reports it Ready. */
export async function waitUntilNodeReady(nodeName: string, describe: () => unknown): Promise<void> {
  await pollUntil(`node ${nodeName} to be Ready`, () => isNodeReady(nodeName), {
    timeoutMs: 30_000,
    describe,
  });
}

/**
 * Ends a test's runner: the namespace's pods are bound to its node, so it completes their
 * deletion first (when it still runs); then SIGTERM, and its node is deleted.
 */
export async function retireLocalPodRunner(
  child: ChildProcess | undefined,
  nodeName: string,
  namespace: string | undefined,
  describe: () => unknown,
): Promise<void> {
  const { core } = kubeClients();
  if (namespace && child && child.exitCode === null && child.signalCode === null) {
    await core.deleteCollectionNamespacedPod({ namespace }).catch(() => undefined);
    await pollUntil(
      'the test pods to be deleted',
      async () => (await core.listNamespacedPod({ namespace })).items.length === 0,
      { timeoutMs: 30_000, describe },
    ).catch((error: unknown) => console.error(error));
  }
  await stopLocalPodRunner(child, 'SIGTERM');
  await core.deleteNode({ name: nodeName }).catch((error: unknown) => {
    if (!isNotFound(error)) throw error;
  });
}

/** The end of a runner's log, for failure messages. */
export function logTail(logFile: string): string {
  return existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-3000) : '';
}
