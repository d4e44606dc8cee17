// The local pod runner: a dev/test stand-in for a kubelet on a machine without a
// container runtime. It registers a Node, binds the pods that ask for it
// (spec.schedulerName: local-pod-runner), runs their containers as local
// processes and reports their status, so the Jobs and Deployments the operator
// creates really run on the local stack. See README.md beside this file.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { clusterCaPem, createKubeClients, loadKubeConfig } from '../../adapters/kube/index.ts';
import { backoffDelayMs, type BackoffPolicy } from '../../contract/backoff.ts';
import { startHealthServer } from './healthServer.ts';
import { loadImageMap } from './imageMap.ts';
import { KeyedWorkQueue } from './keyedWorkQueue.ts';
import { NodeRegistration } from './nodeRegistration.ts';
import { podApi } from './podApi.ts';
import { PodReconciler } from './podReconciler.ts';
import { PodWatcher } from './podWatcher.ts';
import { stopRecordedProcesses } from './processSupervisor.ts';
import { runnerConfigFromEnv } from './runnerConfig.ts';
import { apiServerEndpoint } from './serviceAccountAccess.ts';

const repoRoot = resolve(import.meta.dirname, '..', '..');
const config = runnerConfigFromEnv(process.env, repoRoot, process.execPath);
const log = pino({ name: 'local-pod-runner', level: config.logLevel });
const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string })
  .version;

const kubeConfig = loadKubeConfig({ KUBECONFIG: config.kubeconfigPath });
const { core, coordination } = createKubeClients(kubeConfig);
const imageMap = loadImageMap(repoRoot, config.imageMapFile);
// Pods reach the API server this runner talks to, and trust the CA it trusts (the stack's pki/ca.crt).
// loadKubeConfig refuses a kubeconfig without a current cluster.
const apiServer = apiServerEndpoint(kubeConfig.getCurrentCluster()!.server, clusterCaPem(kubeConfig) ?? '');

const node = new NodeRegistration(
  core,
  coordination,
  {
    nodeName: config.nodeName,
    ip: config.ip,
    version,
    leaseRenewIntervalMs: config.leaseRenewIntervalMs,
    statusRefreshIntervalMs: config.statusRefreshIntervalMs,
  },
  log,
);
const api = podApi(core);
const reconciler = new PodReconciler(
  core,
  api,
  {
    nodeName: config.nodeName,
    ip: config.ip,
    podsDir: config.podsDir,
    processesDir: config.processesDir,
    childPath: config.childPath,
    imageMap,
    apiServer,
    api,
    log,
    now: () => new Date(),
  },
  log,
);
const queue = new KeyedWorkQueue((key) => reconciler.reconcile(key), log);
const watcher = new PodWatcher(
  kubeConfig,
  core,
  {
    fieldSelector: `spec.schedulerName=${config.nodeName}`,
    resyncIntervalMs: config.resyncIntervalMs,
    extraKeys: () => reconciler.runtimeKeys(),
    onKey: (key) => queue.add(key),
  },
  log,
);

let shuttingDown = false;
const server = await startHealthServer(config.healthPort, {
  version,
  nodeName: config.nodeName,
  healthy: () => !shuttingDown && watcher.synced && node.isFresh(new Date()),
  pods: () => reconciler.runtimeKeys().length,
});

async function shutdown(signal: string): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  log.info({ signal }, 'shutting down: stopping every pod gracefully');
  await watcher.stop();
  await Promise.all([reconciler.shutdown(), queue.stop()]);
  node.stop();
  server.close();
  log.info('stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('unhandledRejection', (error) => log.error({ err: error }, 'unhandled rejection'));

log.info(
  { node: config.nodeName, podsDir: config.podsDir, healthPort: config.healthPort, version },
  'starting',
);
// A runner that was killed may have left processes behind; none of them may outlive its pod.
await stopRecordedProcesses(config.processesDir, 10_000, log);
const REGISTRATION_RETRY_BACKOFF: BackoffPolicy = { baseDelayMs: 500, maxDelayMs: 10_000, jitter: true };
for (let attempt = 1; !shuttingDown; attempt++) {
  try {
    await node.start();
    break;
  } catch (error) {
    log.warn({ err: error, attempt }, 'could not register the node yet; retrying');
    await sleep(backoffDelayMs(REGISTRATION_RETRY_BACKOFF, attempt));
  }
}
if (!shuttingDown) {
  await watcher.start();
  log.info({ node: config.nodeName, synced: watcher.synced }, 'ready');
}
