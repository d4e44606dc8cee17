// Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it:
// - a candidate takes the Lease when it is free, or when it has not changed for a lease
//   duration (leaseDecision.ts);
// - the leader renews every retry period; every write replaces the Lease at the
//   resourceVersion it read, so of two candidates writing at once one gets 409 and loses;
// - a leader whose renewals have failed for the renew deadline (shorter than the lease
//   duration) stops leading before anyone else may start;
// - release() (on SIGTERM) empties holderIdentity, so another replica takes over at once
//   instead of after a lease duration.
import { V1MicroTime, type CoordinationV1Api, type V1Lease } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import {
  describeApiError,
  findOrUndefined,
  isAlreadyExists,
  isConflict,
} from '../../adapters/kube/apiErrors.ts';
import { withTimeout } from '../../adapters/kube/requestOptions.ts';
import { sleepOn, systemClock, type Clock } from './clock.ts';
import { decideLeaseAction, observeLease, type LeaseObservation } from './leaseDecision.ts';
import { watchRenewDeadline } from './renewDeadline.ts';

export interface LeaderElectionTimings {
  /** How long others wait after the Lease last changed before taking it (default 15 s). */
  leaseDurationMs: number;
  /** A leader unable to renew for this long stops leading (default 10 s). */
  renewDeadlineMs: number;
  /** Between attempts to acquire or renew (default 2 s). */
  retryPeriodMs: number;
}

export const DEFAULT_LEADER_ELECTION_TIMINGS: LeaderElectionTimings = {
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
};

export interface LeaderElectorOptions extends Partial<LeaderElectionTimings> {
  coordination: CoordinationV1Api;
  namespace: string;
  name: string;
  /** Unique per replica: the pod name (plus a random suffix when pods may share one). */
  identity: string;
  /**
   * Starts the leader's work; `signal` aborts when leadership ends. The returned promise
   * should settle once that work has stopped: release() waits for it before handing over.
   */
  onStartedLeading: (signal: AbortSignal) => Promise<void> | void;
  onStoppedLeading?: () => void;
  /** Leadership changes, for the leader gauge. */
  onLeadershipChange?: (leading: boolean) => void;
  log: Logger;
  clock?: Clock;
  random?: () => number;
}

/** Candidates spread their attempts over [1, 1.2] retry periods, as client-go's JitterFactor. */
const CANDIDATE_JITTER = 0.2;

export class LeaderElector {
  readonly #options: LeaderElectorOptions & LeaderElectionTimings;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #log: Logger;
  #observation: LeaseObservation | undefined;
  #leadership: AbortController | undefined;
  #leaderWork: Promise<void> = Promise.resolve();
  #cancelDeadline: (() => void) | undefined;
  #lastRenewedAtMs = 0;
  #loop: Promise<void> | undefined;
  readonly #stopping = new AbortController();

  constructor(options: LeaderElectorOptions) {
    const timings = { ...DEFAULT_LEADER_ELECTION_TIMINGS, ...withoutUndefined(options) };
    if (!(timings.leaseDurationMs > timings.renewDeadlineMs))
      throw new RangeError('leaseDurationMs must exceed renewDeadlineMs');
    if (!(timings.renewDeadlineMs > timings.retryPeriodMs * (1 + CANDIDATE_JITTER)))
      throw new RangeError('renewDeadlineMs must exceed 1.2 × retryPeriodMs');
    this.#options = { ...options, ...timings };
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    this.#log = options.log.child({
      lease: `${options.namespace}/${options.name}`,
      identity: options.identity,
    });
  }

  isLeader(): boolean {
    return this.#leadership !== undefined;
  }

  /** Starts competing for the Lease in the background. */
  start(): void {
    this.#loop ??= this.#run();
  }

  /**
   * Stops competing and leading without touching the Lease, as a crashed process would:
   * others take over once it expires. For tests and for giving up after an unrecoverable error.
   */
  async stop(): Promise<void> {
    await this.#halt();
    this.#stepDown('stopped');
    await this.#leaderWork;
  }

  /** Stops leading, waits for the leader's work to end, then frees the Lease for the next replica. */
  async release(): Promise<void> {
    await this.#halt();
    this.#stepDown('released');
    await this.#leaderWork;
    const { coordination, namespace, name, identity } = this.#options;
    try {
      const lease = await findOrUndefined(() =>
        coordination.readNamespacedLease({ namespace, name }, withTimeout(this.#options.retryPeriodMs)),
      );
      if (!lease || lease.spec?.holderIdentity !== identity) return;
      const now = new V1MicroTime(this.#clock.now());
      await coordination.replaceNamespacedLease(
        {
          namespace,
          name,
          body: {
            ...lease,
            spec: {
              ...lease.spec,
              holderIdentity: '',
              leaseDurationSeconds: 1,
              acquireTime: now,
              renewTime: now,
            },
          },
        },
        withTimeout(this.#options.retryPeriodMs),
      );
      this.#log.info('released the lease');
    } catch (error) {
      // Not fatal: the others take over when the Lease expires.
      this.#log.warn({ err: describeApiError(error) }, 'could not release the lease');
    }
  }

  async #halt(): Promise<void> {
    this.#stopping.abort();
    await this.#loop;
  }

  async #run(): Promise<void> {
    const { retryPeriodMs } = this.#options;
    while (!this.#stopping.signal.aborted) {
      let renewed = false;
      try {
        renewed = await this.#tryAcquireOrRenew();
      } catch (error) {
        this.#log.warn({ err: describeApiError(error) }, 'could not acquire or renew the lease');
      }
      if (this.#stopping.signal.aborted) break;
      if (renewed) this.#renewed();
      const jitter = this.isLeader() ? 0 : this.#random() * CANDIDATE_JITTER;
      await sleepOn(this.#clock, retryPeriodMs * (1 + jitter), this.#stopping.signal);
    }
  }

  /** One round: true when this replica holds the Lease afterwards. */
  async #tryAcquireOrRenew(): Promise<boolean> {
    const { coordination, namespace, name, identity, leaseDurationMs, retryPeriodMs } = this.#options;
    const timeout = () => withTimeout(retryPeriodMs, this.#stopping.signal);
    const lease = await findOrUndefined(() =>
      coordination.readNamespacedLease({ namespace, name }, timeout()),
    );
    const nowMs = this.#clock.now();
    if (lease?.spec) this.#observation = observeLease(this.#observation, lease.spec, nowMs);
    const decision = decideLeaseAction({
      lease: lease?.spec,
      observation: this.#observation,
      identity,
      nowMs,
      defaultLeaseDurationMs: leaseDurationMs,
    });
    if (decision.action === 'wait') return false;
    const now = new V1MicroTime(nowMs);
    const leaseDurationSeconds = Math.ceil(leaseDurationMs / 1000);
    try {
      if (decision.action === 'create') {
        const created = await coordination.createNamespacedLease(
          {
            namespace,
            body: {
              apiVersion: 'coordination.k8s.io/v1',
              kind: 'Lease',
              metadata: { name, namespace },
              spec: {
                holderIdentity: identity,
                leaseDurationSeconds,
                acquireTime: now,
                renewTime: now,
                leaseTransitions: 0,
              },
            },
          },
          timeout(),
        );
        this.#observe(created, nowMs);
        return true;
      }
      const spec =
        decision.action === 'renew'
          ? { ...lease!.spec, renewTime: now, leaseDurationSeconds }
          : {
              ...lease!.spec,
              holderIdentity: identity,
              leaseDurationSeconds,
              acquireTime: now,
              renewTime: now,
              leaseTransitions: (lease!.spec?.leaseTransitions ?? 0) + 1,
            };
      if (decision.action === 'acquire') this.#log.info({ why: decision.why }, 'taking over the lease');
      // The body carries the resourceVersion we read: a concurrent writer makes this a 409.
      const replaced = await coordination.replaceNamespacedLease(
        { namespace, name, body: { ...lease!, spec } },
        timeout(),
      );
      this.#observe(replaced, nowMs);
      return true;
    } catch (error) {
      if (isConflict(error) || isAlreadyExists(error)) return false;
      throw error;
    }
  }

  #observe(lease: V1Lease, nowMs: number): void {
    if (lease.spec) this.#observation = observeLease(this.#observation, lease.spec, nowMs);
  }

  #renewed(): void {
    this.#lastRenewedAtMs = this.#clock.now();
    this.#armRenewDeadline();
    if (this.#leadership) return;
    const leadership = new AbortController();
    this.#leadership = leadership;
    this.#log.info('started leading');
    this.#options.onLeadershipChange?.(true);
    // A new term starts only once the previous term's work has wound down.
    this.#leaderWork = this.#leaderWork
      .then(() => this.#options.onStartedLeading(leadership.signal))
      .then(
        () => undefined,
        (error: unknown) => this.#log.error({ err: error }, 'the leader work failed'),
      );
  }

  #armRenewDeadline(): void {
    this.#cancelDeadline?.();
    this.#cancelDeadline = watchRenewDeadline(
      this.#clock,
      () => this.#lastRenewedAtMs,
      this.#options.renewDeadlineMs,
      () => this.#stepDown('the lease was not renewed within the renew deadline'),
    );
  }

  #stepDown(why: string): void {
    this.#cancelDeadline?.();
    this.#cancelDeadline = undefined;
    const leadership = this.#leadership;
    if (!leadership) return;
    this.#leadership = undefined;
    leadership.abort();
    this.#log.warn({ why }, 'stopped leading');
    this.#options.onLeadershipChange?.(false);
    this.#options.onStoppedLeading?.();
  }
}

function withoutUndefined(options: Partial<LeaderElectionTimings>): Partial<LeaderElectionTimings> {
  const timings: Partial<LeaderElectionTimings> = {};
  for (const key of ['leaseDurationMs', 'renewDeadlineMs', 'retryPeriodMs'] as const)
    if (options[key] !== undefined) timings[key] = options[key];
  return timings;
}
