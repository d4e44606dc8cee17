// What a candidate does with the Lease it just read, as a pure function (client-go's
// tryAcquireOrRenew). Expiry is judged by when *this* process saw the Lease last change, not by
// the renewTime written in it, so clock skew between replicas cannot shorten a leader's term:
// a holder is considered gone only after its Lease stayed unchanged for a full lease duration.

export interface LeaseRecord {
  holderIdentity?: string | undefined;
  leaseDurationSeconds?: number | undefined;
  renewTime?: string | Date | undefined;
}

/** The Lease as last seen: what it said, and when (local clock) it last changed. */
export interface LeaseObservation {
  fingerprint: string;
  observedAtMs: number;
}

export type LeaseAction =
  | { action: 'create' }
  | { action: 'renew' }
  | { action: 'acquire'; why: 'free' | 'expired' }
  | { action: 'wait'; holder: string; expiresAtMs: number };

function fingerprint(lease: LeaseRecord): string {
  const renewTime = lease.renewTime instanceof Date ? lease.renewTime.toISOString() : lease.renewTime;
  return JSON.stringify([lease.holderIdentity ?? '', renewTime ?? '', lease.leaseDurationSeconds ?? 0]);
}

/** Keeps the earlier observation while the Lease is unchanged; restarts the clock when it changed. */
export function observeLease(
  previous: LeaseObservation | undefined,
  lease: LeaseRecord,
  nowMs: number,
): LeaseObservation {
  const current = fingerprint(lease);
  return previous?.fingerprint === current ? previous : { fingerprint: current, observedAtMs: nowMs };
}

export function decideLeaseAction(input: {
  lease: LeaseRecord | undefined;
  observation: LeaseObservation | undefined;
  identity: string;
  nowMs: number;
  /** Used when the Lease names no duration. */
  defaultLeaseDurationMs: number;
}): LeaseAction {
  const { lease, identity, nowMs } = input;
  if (!lease) return { action: 'create' };
  const holder = lease.holderIdentity ?? '';
  if (holder === identity) return { action: 'renew' };
  if (!holder) return { action: 'acquire', why: 'free' };
  const durationMs = lease.leaseDurationSeconds
    ? lease.leaseDurationSeconds * 1000
    : input.defaultLeaseDurationMs;
  const observedAtMs = input.observation?.observedAtMs ?? nowMs;
  const expiresAtMs = observedAtMs + durationMs;
  if (nowMs >= expiresAtMs) return { action: 'acquire', why: 'expired' };
  return { action: 'wait', holder, expiresAtMs };
}

/** A leader that has not renewed for the renew deadline must stop acting as leader. */
export function hasMissedRenewDeadline(
  lastRenewedAtMs: number,
  nowMs: number,
  renewDeadlineMs: number,
): boolean {
  return nowMs - lastRenewedAtMs >= renewDeadlineMs;
}
