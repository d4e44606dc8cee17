// A supervised list+watch cache of one resource (all namespaces or one, optionally filtered by
// labels), the way client-go's reflector keeps one:
// - list (from the API server's watch cache), then watch from the list's resourceVersion;
// - a watch the server ends normally is re-opened from the last version seen; one the server
//   answers 410 Gone (the version was compacted away) is replaced by a fresh list;
// - any other failure (connection refused or reset, 401/403/429/5xx, a failed list) restarts
//   the loop after a jittered backoff that is reset only once the informer has been healthy
//   for a while, never merely because a restart succeeded (client-node #1933);
// - a watch that delivered nothing, not even a bookmark, for longer than a bound is restarted
//   (a connection can die without either side noticing);
// - every resync interval the whole resource is listed again and every object emitted, so a
//   controller looks at everything periodically even if an event was lost.
//
// Built on raw list/watch requests (adapters/kube/listWatch.ts) rather than client-node's
// ListWatch, which stops for good after any error but 410, gives handlers no old object, keys
// nothing by uid, and has no resync (see that file for the details).
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { backoffDelayMs, type BackoffPolicy } from '../../contract/backoff.ts';
import { describeApiError, isGone } from '../../adapters/kube/apiErrors.ts';
import type { ListWatchClient, ResourceQuery } from '../../adapters/kube/listWatch.ts';
import { sleepOn, systemClock, type Clock } from './clock.ts';
import { applyWatchEvent, failuresAfterError, replaceAll, type CacheChange } from './informerCache.ts';
import { keyOf } from './objectKeys.ts';

export type InformerEventType = 'add' | 'update' | 'delete' | 'resync';
/** add: (object, undefined); update: (new, old); delete: (last state, cached state); resync: (object, object). */
export type InformerHandler<T> = (object: T, oldObject: T | undefined) => void;
export type RestartReason = 'error' | 'gone' | 'quiet';

export interface InformerOptions {
  /** For logs and metrics, e.g. "modelruns". */
  name: string;
  resource: ResourceQuery;
  client: ListWatchClient;
  log: Logger;
  /** Full relist and re-emit of every object (default 10 min; 0 turns it off). */
  resyncIntervalMs?: number;
  /** Restart a watch silent for this long (default 2 min; the server bookmarks about every minute). */
  watchQuietTimeoutMs?: number;
  /** Between restarts after errors (default 800 ms doubling to 30 s, jittered). */
  restartBackoff?: BackoffPolicy;
  /** Healthy this long, the next error starts the backoff over (default 2 min). */
  healthyResetMs?: number;
  /** Not watching and no progress for this long counts as stuck (/healthz; default 3 min). */
  stuckAfterMs?: number;
  /** Each restart, for the informer_restarts metric. */
  onRestart?: (reason: RestartReason) => void;
  clock?: Clock;
  random?: () => number;
}

export interface InformerHealth {
  synced: boolean;
  watching: boolean;
  stuck: boolean;
  consecutiveFailures: number;
  objects: number;
}

/** Server-side watch timeout, spread as client-go does (5 to 10 minutes). */
const MIN_WATCH_TIMEOUT_SECONDS = 300;
/** A watch that ends this soon having delivered nothing counts as a failure, not a normal end. */
const SHORT_WATCH_MS = 1_000;

export class Informer<T extends KubernetesObject = KubernetesObject> {
  readonly name: string;
  readonly #options: InformerOptions;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #log: Logger;
  readonly #restartBackoff: BackoffPolicy;
  readonly #cache = new Map<string, T>();
  readonly #handlers: Record<InformerEventType, InformerHandler<T>[]> = {
    add: [],
    update: [],
    delete: [],
    resync: [],
  };
  readonly #stopping = new AbortController();
  #loop: Promise<void> | undefined;
  #synced = false;
  #watching = false;
  #failures = 0;
  #healthySinceMs: number | undefined;
  #lastProgressMs = 0;
  #resourceVersion = '';
  #syncWaiters: (() => void)[] = [];

  constructor(options: InformerOptions) {
    this.name = options.name;
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    this.#log = options.log.child({ informer: options.name });
    this.#restartBackoff = options.restartBackoff ?? { baseDelayMs: 800, maxDelayMs: 30_000, jitter: true };
  }

  /** Handlers only enqueue keys: they run inline, and one that throws is logged, not propagated. */
  on(type: InformerEventType, handler: InformerHandler<T>): void {
    this.#handlers[type].push(handler);
  }

  start(): void {
    this.#lastProgressMs = this.#clock.now();
    this.#loop ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#stopping.abort();
    await this.#loop;
    for (const resolve of this.#syncWaiters.splice(0)) resolve();
  }

  get(namespace: string, name: string): T | undefined {
    return this.#cache.get(keyOf(namespace, name));
  }

  /** Every cached object, by key. */
  getByKey(key: string): T | undefined {
    return this.#cache.get(key);
  }

  list(): T[] {
    return [...this.#cache.values()];
  }

  keys(): string[] {
    return [...this.#cache.keys()];
  }

  /** True once the first list has been loaded. */
  hasSynced(): boolean {
    return this.#synced;
  }

  /** Resolves once synced, or when `signal` aborts or the informer stops. */
  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.#synced || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      this.#syncWaiters.push(resolve);
      signal?.addEventListener('abort', () => resolve(), { once: true });
    });
  }

  health(): InformerHealth {
    const stuckAfterMs = this.#options.stuckAfterMs ?? 180_000;
    const idleMs = this.#clock.now() - this.#lastProgressMs;
    return {
      synced: this.#synced,
      watching: this.#watching,
      stuck: this.#loop !== undefined && !this.#watching && idleMs > stuckAfterMs,
      consecutiveFailures: this.#failures,
      objects: this.#cache.size,
    };
  }

  async #run(): Promise<void> {
    const resyncIntervalMs = this.#options.resyncIntervalMs ?? 600_000;
    let needList = true;
    let resyncing = false;
    let goneInARow = 0;
    let nextResyncAt = Number.POSITIVE_INFINITY;
    while (!this.#stopping.signal.aborted) {
      const attempt = new AbortController();
      const stop = () => attempt.abort();
      this.#stopping.signal.addEventListener('abort', stop, { once: true });
      let interruption: 'quiet' | 'resync' | undefined;
      const cancelTimers: (() => void)[] = [];
      try {
        if (needList) {
          const list = await this.#options.client.list<T>(this.#options.resource, {
            resourceVersion: '0',
            signal: attempt.signal,
          });
          this.#emitAll(replaceAll(this.#cache, list.items));
          if (resyncing) for (const object of this.#cache.values()) this.#emit('resync', object, object);
          this.#resourceVersion = list.resourceVersion;
          this.#lastProgressMs = this.#clock.now();
          needList = false;
          resyncing = false;
          if (resyncIntervalMs > 0) nextResyncAt = this.#clock.now() + resyncIntervalMs;
          this.#markSynced();
        }

        const quietMs = this.#options.watchQuietTimeoutMs ?? 120_000;
        let cancelQuiet = () => {};
        const armQuiet = () => {
          cancelQuiet();
          cancelQuiet = this.#clock.setTimer(() => {
            interruption = 'quiet';
            attempt.abort();
          }, quietMs);
        };
        armQuiet();
        cancelTimers.push(() => cancelQuiet());
        if (nextResyncAt < Number.POSITIVE_INFINITY) {
          cancelTimers.push(
            this.#clock.setTimer(() => {
              interruption ??= 'resync';
              attempt.abort();
            }, nextResyncAt - this.#clock.now()),
          );
        }
        const startedAt = this.#clock.now();
        let delivered = 0;
        const timeoutSeconds = Math.round(MIN_WATCH_TIMEOUT_SECONDS * (1 + this.#random()));
        await this.#options.client.watch<T>(
          this.#options.resource,
          {
            resourceVersion: this.#resourceVersion,
            timeoutSeconds,
            signal: attempt.signal,
            onOpen: () => {
              this.#watching = true;
              this.#healthySinceMs ??= this.#clock.now();
              this.#lastProgressMs = this.#clock.now();
            },
          },
          (event) => {
            armQuiet();
            delivered++;
            this.#lastProgressMs = this.#clock.now();
            if (event.type !== 'BOOKMARK')
              this.#emitAll(applyWatchEvent(this.#cache, event.type, event.object));
            const version = event.object.metadata?.resourceVersion;
            if (version) this.#resourceVersion = version;
          },
        );
        this.#watching = false;
        goneInARow = 0;
        if (this.#stopping.signal.aborted) break;
        if (interruption === 'resync') {
          needList = true;
          resyncing = true;
        } else if (interruption === 'quiet') {
          this.#restarted('quiet', `no event for ${quietMs} ms; re-watching`);
        } else if (delivered === 0 && this.#clock.now() - startedAt < SHORT_WATCH_MS) {
          throw new Error('the watch ended as soon as it started');
        }
      } catch (error) {
        this.#watching = false;
        if (this.#stopping.signal.aborted) break;
        if (isGone(error) && goneInARow++ === 0) {
          // Compacted away while we were not looking: list afresh at once.
          needList = true;
          this.#restarted('gone', 'resourceVersion too old (410 Gone); relisting');
          continue;
        }
        if (isGone(error)) needList = true;
        await this.#backOff(error);
      } finally {
        for (const cancel of cancelTimers) cancel();
        this.#stopping.signal.removeEventListener('abort', stop);
      }
    }
  }

  async #backOff(error: unknown): Promise<void> {
    const now = this.#clock.now();
    this.#failures = failuresAfterError(
      this.#failures,
      this.#healthySinceMs,
      now,
      this.#options.healthyResetMs ?? 120_000,
    );
    this.#healthySinceMs = undefined;
    const delayMs = backoffDelayMs(this.#restartBackoff, this.#failures, this.#random);
    this.#restarted('error', 'list or watch failed; restarting after a backoff', {
      err: describeApiError(error),
      failures: this.#failures,
      retryInMs: delayMs,
    });
    await sleepOn(this.#clock, delayMs, this.#stopping.signal);
  }

  #restarted(reason: RestartReason, message: string, details: Record<string, unknown> = {}): void {
    this.#options.onRestart?.(reason);
    (reason === 'error' ? this.#log.warn : this.#log.info).call(this.#log, { reason, ...details }, message);
  }

  #markSynced(): void {
    if (this.#synced) return;
    this.#synced = true;
    this.#log.info({ objects: this.#cache.size }, 'cache synced');
    for (const resolve of this.#syncWaiters.splice(0)) resolve();
  }

  #emitAll(changes: CacheChange<T>[]): void {
    for (const change of changes)
      this.#emit(change.type, change.object, change.type === 'add' ? undefined : change.oldObject);
  }

  #emit(type: InformerEventType, object: T, oldObject: T | undefined): void {
    for (const handler of this.#handlers[type]) {
      try {
        handler(object, oldObject);
      } catch (error) {
        this.#log.error({ err: error, event: type }, 'an informer handler threw; handlers must only enqueue');
      }
    }
  }
}
