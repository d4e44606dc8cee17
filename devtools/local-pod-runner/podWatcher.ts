// Tells the reconciler which pods to look at: a list-watch of the pods that ask
// for this runner (by schedulerName), restarted after every error (client-node's
// informer stops on an error until start() is called again), plus a periodic
// full resync so an event lost while the watch was down is never missed.
//
// Lists are served from the API server's watch cache (resourceVersion "0"), and
// the watch continues from the version that list returns. A list without a
// version is read from etcd, and watching from etcd's newest revision stalls
// until the pod watch cache has caught up: with an etcd that sends progress
// notifications rarely (the stack's etcd 3.4), that ends in a "Too large resource
// version" timeout whenever pods are quiet.
import type { CoreV1Api, KubeConfig, V1Pod } from '@kubernetes/client-node';
import { ListWatch, Watch } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { backoffDelayMs, type BackoffPolicy } from '../../contract/backoff.ts';
import { podKey } from './podFiles.ts';

export interface PodWatcherOptions {
  fieldSelector: string;
  resyncIntervalMs: number;
  /** Keys to look at on every resync besides the listed pods (pods with local processes). */
  extraKeys: () => string[];
  onKey: (key: string) => void;
}

const RESTART_BACKOFF: BackoffPolicy = { baseDelayMs: 500, maxDelayMs: 30_000, jitter: true };

export class PodWatcher {
  private readonly informer: ListWatch<V1Pod>;
  private readonly core: CoreV1Api;
  private readonly options: PodWatcherOptions;
  private readonly log: Logger;
  private restartTimer: NodeJS.Timeout | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private consecutiveErrors = 0;
  private stopped = false;
  /** True once a full list has succeeded: every pod that asks for this runner has been seen. */
  synced = false;

  constructor(kubeConfig: KubeConfig, core: CoreV1Api, options: PodWatcherOptions, log: Logger) {
    this.core = core;
    this.options = options;
    this.log = log;
    const list = () =>
      core.listPodForAllNamespaces({ fieldSelector: options.fieldSelector, resourceVersion: '0' });
    this.informer = new ListWatch<V1Pod>(
      '/api/v1/pods',
      new Watch(kubeConfig),
      list,
      false,
      undefined,
      options.fieldSelector,
    );
    const onPod = (pod: V1Pod) => {
      this.consecutiveErrors = 0;
      if (pod.metadata?.namespace && pod.metadata.name)
        options.onKey(podKey(pod.metadata.namespace, pod.metadata.name));
    };
    this.informer.on('add', onPod);
    this.informer.on('update', onPod);
    this.informer.on('delete', onPod);
    this.informer.on('error', (error) => this.restartAfterError(error));
  }

  async start(): Promise<void> {
    await this.resync();
    this.startInformer();
    this.resyncTimer = setInterval(() => void this.resync(), this.options.resyncIntervalMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    clearInterval(this.resyncTimer);
    await this.informer.stop();
  }

  private startInformer(): void {
    this.informer.start().catch((error: unknown) => this.restartAfterError(error));
  }

  private restartAfterError(error: unknown): void {
    if (this.stopped || this.restartTimer) return;
    this.consecutiveErrors++;
    const delayMs = backoffDelayMs(RESTART_BACKOFF, this.consecutiveErrors);
    this.log.warn({ err: error, retryInMs: delayMs }, 'pod watch failed; restarting it');
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.stopped) this.startInformer();
    }, delayMs);
  }

  /** Lists every pod afresh and queues each one, plus every pod that still has local processes. */
  private async resync(): Promise<void> {
    try {
      const pods = (await this.core.listPodForAllNamespaces({ fieldSelector: this.options.fieldSelector }))
        .items;
      const keys = new Set(this.options.extraKeys());
      for (const pod of pods) {
        if (pod.metadata?.namespace && pod.metadata.name)
          keys.add(podKey(pod.metadata.namespace, pod.metadata.name));
      }
      for (const key of keys) this.options.onKey(key);
      this.synced = true;
    } catch (error) {
      this.log.warn({ err: error }, 'pod resync failed; the next one retries');
    }
  }
}
