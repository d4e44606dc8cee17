// Runs controllers: routes informer events to each controller's work queue as keys, runs
// reconciles with the configured concurrency while this replica leads, and turns each
// reconcile's outcome into the next step for its key:
// - resolved → forget the key's backoff; `requeueAfterMs > 0` → look again after that long
//   (≤ 0 is a bug: logged and treated as done, never a hot loop);
// - threw → retry with the rate limiter's backoff, counted as an error.
// Informers start (and caches warm) before leadership; queues and workers exist only while
// leading, so a standby replica never writes.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { describeApiError, apiStatusCode } from '../../adapters/kube/apiErrors.ts';
import type { HealthReport } from '../../adapters/metrics/metricsServer.ts';
import { systemClock, type Clock } from './clock.ts';
import { primaryUpdateTrigger, type UpdateException } from './eventFilter.ts';
import type { Informer } from './informer.ts';
import { objectKey, parseObjectKey } from './objectKeys.ts';
import { workQueueMetricsHooks, type OperatorMetrics, type ReconcileResult } from './operatorMetrics.ts';
import type { RateLimiterOptions } from './rateLimiter.ts';
import { WorkQueue } from './workQueue.ts';

export interface ReconcileOutcome {
  /** Look at the key again after this long (waiting is not failing). Must be > 0. */
  requeueAfterMs?: number;
}

/** A secondary resource and which primary keys a change to one of its objects concerns. */
export interface SecondaryWatch {
  // Informers of any kind: the mapping is the only thing that looks at their objects.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  informer: Informer<any>;
  keysFor: (object: KubernetesObject) => string[];
}

export interface ControllerRegistration<T extends KubernetesObject = KubernetesObject> {
  /** For logs and metrics, e.g. "modelrun". */
  name: string;
  primary: Informer<T>;
  secondary?: SecondaryWatch[];
  /**
   * `key` is "namespace/name"; `signal` aborts when leadership ends; `log` carries controller,
   * namespace and name.
   */
  reconcile: (key: string, signal: AbortSignal, log: Logger) => Promise<ReconcileOutcome | void>;
  /** Reconciles of different keys at once (default 1). */
  concurrency?: number;
  /** Named exceptions to "updates wake only on a generation change or a deletion" (eventFilter.ts). */
  alsoOnUpdate?: Record<string, UpdateException<T>>;
}

export interface ControllerManagerOptions {
  log: Logger;
  metrics?: OperatorMetrics;
  clock?: Clock;
  rateLimiter?: RateLimiterOptions;
}

interface RunningController {
  registration: ControllerRegistration;
  queue: WorkQueue | undefined;
}

export class ControllerManager {
  readonly #options: ControllerManagerOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #controllers = new Map<string, RunningController>();
  readonly #informers = new Set<Informer<KubernetesObject>>();
  #leading = false;

  constructor(options: ControllerManagerOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#log = options.log;
  }

  register<T extends KubernetesObject>(registration: ControllerRegistration<T>): void {
    if (this.#controllers.has(registration.name))
      throw new Error(`controller ${registration.name} is registered twice`);
    const running: RunningController = {
      registration: registration as unknown as ControllerRegistration,
      queue: undefined,
    };
    this.#controllers.set(registration.name, running);
    const enqueue = (key: string) => running.queue?.add(key);
    const enqueueObject = (object: T) => enqueue(objectKey(object));
    const { primary } = registration;
    primary.on('add', enqueueObject);
    primary.on('delete', enqueueObject);
    primary.on('resync', enqueueObject);
    primary.on('update', (object, oldObject) => {
      if (oldObject && primaryUpdateTrigger(object, oldObject, registration.alsoOnUpdate))
        enqueueObject(object);
    });
    this.#informers.add(primary as unknown as Informer<KubernetesObject>);
    for (const { informer, keysFor } of registration.secondary ?? []) {
      const enqueueOwners = (object: KubernetesObject, oldObject: KubernetesObject | undefined) => {
        const keys = new Set(keysFor(object));
        if (oldObject && oldObject !== object) for (const key of keysFor(oldObject)) keys.add(key);
        for (const key of keys) enqueue(key);
      };
      for (const type of ['add', 'update', 'delete', 'resync'] as const) informer.on(type, enqueueOwners);
      this.#informers.add(informer);
    }
  }

  /** Starts every informer (each once, however many controllers share it). */
  startInformers(): void {
    for (const informer of this.#informers) informer.start();
  }

  async stopInformers(): Promise<void> {
    await Promise.all([...this.#informers].map((informer) => informer.stop()));
  }

  /** Resolves when every cache has its first list, or when `signal` aborts. */
  async waitForCacheSync(signal?: AbortSignal): Promise<boolean> {
    await Promise.all([...this.#informers].map((informer) => informer.waitForSync(signal)));
    return this.allSynced();
  }

  allSynced(): boolean {
    return [...this.#informers].every((informer) => informer.hasSynced());
  }

  isLeading(): boolean {
    return this.#leading;
  }

  /**
   * The leader's work (pass it as LeaderElector's onStartedLeading): waits for the caches,
   * queues every primary object, and reconciles until `signal` aborts; then stops handing out
   * keys and resolves once the reconciles in progress have returned.
   */
  async lead(signal: AbortSignal): Promise<void> {
    if (this.#leading) throw new Error('already leading');
    if (!(await this.waitForCacheSync(signal)) || signal.aborted) return;
    this.#leading = true;
    this.#log.info({ controllers: [...this.#controllers.keys()] }, 'reconciling as leader');
    const workers: Promise<void>[] = [];
    for (const running of this.#controllers.values()) {
      const { registration } = running;
      const queue = new WorkQueue({
        clock: this.#clock,
        rateLimiter: this.#options.rateLimiter,
        hooks: this.#options.metrics ? workQueueMetricsHooks(this.#options.metrics, registration.name) : {},
      });
      running.queue = queue;
      for (const key of registration.primary.keys()) queue.add(key);
      const concurrency = Math.max(1, registration.concurrency ?? 1);
      for (let i = 0; i < concurrency; i++) workers.push(this.#work(registration, queue, signal));
    }
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
    const queues = [...this.#controllers.values()].map((running) => running.queue);
    for (const running of this.#controllers.values()) running.queue = undefined;
    await Promise.all(queues.map((queue) => queue?.shutDown()));
    await Promise.all(workers);
    this.#leading = false;
    this.#log.info('stopped reconciling');
  }

  /** /healthz: alive, and no informer stuck failing. */
  health(): HealthReport {
    const informers = Object.fromEntries(
      [...this.#informers].map((informer) => [informer.name, informer.health()]),
    );
    const healthy = Object.values(informers).every((health) => !health.stuck);
    return { healthy, details: { leading: this.#leading, informers } };
  }

  /** /readyz: every cache has synced. */
  readiness(): HealthReport {
    const synced = Object.fromEntries(
      [...this.#informers].map((informer) => [informer.name, informer.hasSynced()]),
    );
    return { healthy: Object.values(synced).every(Boolean), details: { leading: this.#leading, synced } };
  }

  async #work(registration: ControllerRegistration, queue: WorkQueue, signal: AbortSignal): Promise<void> {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        await this.#reconcile(registration, queue, key, signal);
      } finally {
        queue.done(key);
      }
    }
  }

  async #reconcile(
    registration: ControllerRegistration,
    queue: WorkQueue,
    key: string,
    signal: AbortSignal,
  ): Promise<void> {
    const { name: controller } = registration;
    let log = this.#log.child({ controller, key });
    try {
      const { namespace, name } = parseObjectKey(key);
      log = this.#log.child({ controller, namespace, name });
    } catch (error) {
      log.error({ err: error }, 'dropping an invalid key');
      queue.forget(key);
      return;
    }
    const metrics = this.#options.metrics;
    const startedAt = this.#clock.now();
    let result: ReconcileResult = 'success';
    try {
      const outcome = await registration.reconcile(key, signal, log);
      queue.forget(key);
      const requeueAfterMs = outcome?.requeueAfterMs;
      if (requeueAfterMs !== undefined) {
        if (Number.isFinite(requeueAfterMs) && requeueAfterMs > 0) {
          queue.addAfter(key, requeueAfterMs);
          result = 'requeue';
        } else {
          log.error({ requeueAfterMs }, 'reconcile asked to requeue after ≤ 0 ms (a bug); treated as done');
        }
      }
    } catch (error) {
      if (signal.aborted) {
        result = 'interrupted';
        log.info('reconcile interrupted: leadership ended');
      } else {
        result = 'error';
        queue.addRateLimited(key);
        metrics?.reconcileErrors.inc({ controller });
        log.warn(
          {
            err: apiStatusCode(error) === undefined ? error : describeApiError(error),
            retries: queue.numRequeues(key),
          },
          'reconcile failed; retrying with backoff',
        );
      }
    } finally {
      metrics?.reconciles.inc({ controller, result });
      metrics?.reconcileDuration.observe({ controller }, (this.#clock.now() - startedAt) / 1000);
    }
  }
}
