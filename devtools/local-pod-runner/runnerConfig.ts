// The runner's settings, from its environment. Everything has a default that
// fits the local stack; the stack script sets KUBECONFIG and MODEL_RUNNER_STACK_DIR.
import { dirname, join, resolve } from 'node:path';
import { isDnsLabel } from './podFiles.ts';

export interface RunnerConfig {
  /** The Node's name; the runner serves the pods whose spec.schedulerName is this same name. */
  nodeName: string;
  kubeconfigPath: string;
  repoRoot: string;
  stackDir: string;
  /** Container logs and pod sandboxes. */
  podsDir: string;
  /** Records of running processes, per node so two runners never stop each other's processes. */
  processesDir: string;
  healthPort: number;
  imageMapFile: string | undefined;
  /** Pod IP and host IP of every pod. */
  ip: string;
  /** PATH of the child processes: the runner's own Node first, then the usual system directories. */
  childPath: string;
  leaseRenewIntervalMs: number;
  statusRefreshIntervalMs: number;
  resyncIntervalMs: number;
  logLevel: string;
}

export const DEFAULT_NODE_NAME = 'local-pod-runner';
export const DEFAULT_HEALTH_PORT = 30258;
const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function runnerConfigFromEnv(
  env: Record<string, string | undefined>,
  repoRoot: string,
  nodeBinary: string,
): RunnerConfig {
  const nodeName = env.LOCAL_POD_RUNNER_NODE_NAME ?? DEFAULT_NODE_NAME;
  if (!isDnsLabel(nodeName))
    throw new Error(`LOCAL_POD_RUNNER_NODE_NAME ${JSON.stringify(nodeName)} is not a DNS label`);
  const kubeconfigPath = env.KUBECONFIG;
  if (!kubeconfigPath)
    throw new Error('KUBECONFIG is not set: point it at the stack admin kubeconfig (.stack/kubeconfig)');
  const stackDir = resolve(env.MODEL_RUNNER_STACK_DIR ?? join(repoRoot, '.stack'));
  const healthPort = Number(env.LOCAL_POD_RUNNER_HEALTH_PORT ?? DEFAULT_HEALTH_PORT);
  // 0 picks any free port (a second runner in a test needs no fixed one).
  if (!Number.isInteger(healthPort) || healthPort < 0 || healthPort > 65535) {
    throw new Error(
      `LOCAL_POD_RUNNER_HEALTH_PORT ${JSON.stringify(env.LOCAL_POD_RUNNER_HEALTH_PORT)} is not a port`,
    );
  }
  return {
    nodeName,
    kubeconfigPath,
    repoRoot,
    stackDir,
    podsDir: join(stackDir, 'pods'),
    processesDir: join(stackDir, 'pod-runner', nodeName, 'processes'),
    healthPort,
    imageMapFile: env.LOCAL_POD_RUNNER_IMAGE_MAP || undefined,
    ip: '127.0.0.1',
    childPath: `${dirname(nodeBinary)}:${SYSTEM_PATH}`,
    leaseRenewIntervalMs: 10_000,
    statusRefreshIntervalMs: 60_000,
    resyncIntervalMs: 30_000,
    logLevel: env.LOG_LEVEL ?? 'info',
  };
}
