// Kubernetes Events (events.k8s.io/v1) about an object, for people running `kubectl describe`
// or `kubectl get events`. Recording never throws and never blocks a reconcile on a failure:
// an Event that cannot be written is logged and forgotten.
//
// Events are written in the background, a few at a time (as client-go's broadcaster writes them
// one at a time from a buffer): a burst of a thousand new runs then spends the API server on
// their status and finalizers first, and its Events follow a little later. Past a bounded
// backlog, new Events are dropped and counted in the log.
import {
  V1MicroTime,
  type EventsV1Api,
  type EventsV1Event,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { describeApiError, isNotFound } from './apiErrors.ts';
import { eventSeriesKey, nextEventWrite, type EventOccurrence, type WrittenEvent } from './eventSeries.ts';
import { mergePatch } from './requestOptions.ts';

export const REPORTING_CONTROLLER = 'modelrunner.io/operator';

export interface EventDetails {
  type: 'Normal' | 'Warning';
  /** CamelCase, e.g. BatchesDispatched: what happened, for machines and filters. */
  reason: string;
  /** For people; cut to the API's 1 kB. */
  note: string;
  /** What the controller did or tried, CamelCase, e.g. Dispatch. */
  action: string;
}

export interface EventRecorderOptions {
  events: EventsV1Api;
  /** The operator's pod name (reportingInstance), so Events say which replica wrote them. */
  reportingInstance: string;
  reportingController?: string;
  log: Logger;
  /** A repeat within this window bumps the series (default 5 minutes). */
  seriesWindowMs?: number;
  now?: () => Date;
  /** Event writes in flight at once (default 2). */
  maxConcurrentWrites?: number;
  /** Events waiting for a write slot before new ones are dropped (default 10,000). */
  maxBacklog?: number;
}

const CAMEL_CASE = /^[A-Z][A-Za-z0-9]{0,127}$/;
const MAX_NOTE_BYTES = 1024;
/** Keys of written Events kept for series; older ones are dropped past this many. */
const MAX_REMEMBERED = 4096;
/** At most one log line per this long about dropped Events. */
const DROP_LOG_INTERVAL_MS = 60_000;

class EventBacklogFull extends Error {
  override name = 'EventBacklogFull';
}

export class EventRecorder {
  readonly #options: Required<Omit<EventRecorderOptions, 'log' | 'events'>> &
    Pick<EventRecorderOptions, 'log' | 'events'>;
  readonly #written = new Map<string, WrittenEvent>();
  /** One write at a time per key, so a quick repeat sees the Event the first write made. */
  readonly #pending = new Map<string, Promise<void>>();
  /** Writes in flight, and the writes waiting for a slot (each handed one when a write ends). */
  #writing = 0;
  readonly #waiting: (() => void)[] = [];
  #dropped = 0;
  #droppedLoggedAt = Number.NEGATIVE_INFINITY;

  constructor(options: EventRecorderOptions) {
    this.#options = {
      reportingController: REPORTING_CONTROLLER,
      seriesWindowMs: 5 * 60_000,
      now: () => new Date(),
      maxConcurrentWrites: 2,
      maxBacklog: 10_000,
      ...options,
    };
  }

  normal(object: KubernetesObject, reason: string, note: string, action: string): Promise<void> {
    return this.record(object, { type: 'Normal', reason, note, action });
  }

  warning(object: KubernetesObject, reason: string, note: string, action: string): Promise<void> {
    return this.record(object, { type: 'Warning', reason, note, action });
  }

  /** Writes or bumps the Event; resolves when done, never rejects. */
  record(object: KubernetesObject, details: EventDetails): Promise<void> {
    const { log } = this.#options;
    const meta = object.metadata;
    if (!meta?.name || !object.kind || !CAMEL_CASE.test(details.reason) || !CAMEL_CASE.test(details.action)) {
      log.error(
        { object: meta?.name, kind: object.kind, ...details },
        'event not recorded: invalid object, reason or action',
      );
      return Promise.resolve();
    }
    const note = truncateUtf8(details.note, MAX_NOTE_BYTES);
    const occurrence: EventOccurrence = {
      subject: meta.uid ?? `${meta.namespace ?? ''}/${meta.name}`,
      ...details,
      note,
    };
    const key = eventSeriesKey(occurrence);
    const previous = this.#pending.get(key) ?? Promise.resolve();
    const write = previous
      .then(() => this.#inTurn(() => this.#write(key, object, { ...details, note })))
      .catch((error: unknown) =>
        error instanceof EventBacklogFull
          ? this.#countDropped()
          : log.warn(
              {
                err: describeApiError(error),
                kind: object.kind,
                namespace: meta.namespace,
                name: meta.name,
                reason: details.reason,
              },
              'could not write an Event',
            ),
      )
      .finally(() => {
        if (this.#pending.get(key) === write) this.#pending.delete(key);
      });
    this.#pending.set(key, write);
    return write;
  }

  /** Runs `work` in one of the write slots, waiting for one; refuses when the backlog is full. */
  async #inTurn(work: () => Promise<void>): Promise<void> {
    if (this.#writing < this.#options.maxConcurrentWrites) this.#writing++;
    else if (this.#waiting.length >= this.#options.maxBacklog) throw new EventBacklogFull();
    else await new Promise<void>((resolve) => this.#waiting.push(resolve)); // the slot is handed over
    try {
      await work();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#writing--;
    }
  }

  #countDropped(): void {
    this.#dropped++;
    const now = this.#options.now().getTime();
    if (now - this.#droppedLoggedAt < DROP_LOG_INTERVAL_MS) return;
    this.#droppedLoggedAt = now;
    this.#options.log.warn(
      { dropped: this.#dropped, backlog: this.#waiting.length },
      'Events dropped: too many waiting to be written',
    );
  }

  async #write(key: string, object: KubernetesObject, details: EventDetails): Promise<void> {
    const now = this.#options.now();
    const decision = nextEventWrite(this.#written.get(key), now.getTime(), this.#options.seriesWindowMs);
    const written = this.#written.get(key);
    if (decision.kind === 'bumpSeries' && written) {
      try {
        await this.#options.events.patchNamespacedEvent(
          {
            namespace: written.namespace,
            name: written.name,
            body: { series: { count: decision.count, lastObservedTime: new V1MicroTime(now.getTime()) } },
          },
          mergePatch,
        );
        this.#remember(key, { ...written, count: decision.count, lastObservedMs: now.getTime() });
        return;
      } catch (error) {
        // The Event expired (the API server keeps them about an hour): start a new one.
        if (!isNotFound(error)) throw error;
      }
    }
    const created = await this.#options.events.createNamespacedEvent({
      namespace: object.metadata?.namespace || 'default',
      body: this.#newEvent(object, details, now),
    });
    this.#remember(key, {
      namespace: created.metadata?.namespace ?? '',
      name: created.metadata?.name ?? '',
      count: 1,
      lastObservedMs: now.getTime(),
    });
  }

  #newEvent(object: KubernetesObject, details: EventDetails, now: Date): EventsV1Event {
    const meta = object.metadata ?? {};
    const namespace = meta.namespace || 'default';
    return {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      // client-go's naming: the object's name and a unique suffix.
      metadata: {
        name: `${(meta.name ?? 'object').slice(0, 200)}.${now.getTime().toString(16)}${randomBytes(3).toString('hex')}`,
        namespace,
      },
      eventTime: new V1MicroTime(now.getTime()),
      reportingController: this.#options.reportingController,
      reportingInstance: this.#options.reportingInstance,
      type: details.type,
      reason: details.reason,
      action: details.action,
      note: details.note,
      regarding: {
        apiVersion: object.apiVersion,
        kind: object.kind,
        name: meta.name,
        namespace: meta.namespace,
        uid: meta.uid,
        resourceVersion: meta.resourceVersion,
      },
    };
  }

  #remember(key: string, event: WrittenEvent): void {
    this.#written.delete(key);
    this.#written.set(key, event);
    // A Map iterates in insertion order: the first keys are the least recently written.
    for (const oldest of this.#written.keys()) {
      if (this.#written.size <= MAX_REMEMBERED) break;
      this.#written.delete(oldest);
    }
  }
}

function truncateUtf8(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  // Cut on a character boundary, leaving room for the ellipsis (3 bytes).
  return `${new TextDecoder().decode(bytes.subarray(0, maxBytes - 3)).replace(/\uFFFD$/, '')}…`;
}
