// The leader's renew deadline as a timer: it calls `onMissed` once the deadline has passed
// since the last renewal. A timer may fire a few milliseconds before `clock.now()` says the time
// is up (Node's timers run on the event loop's cached time, the check reads the wall clock, and a
// busy loop widens the gap): then it waits for the rest instead of concluding "not yet" for good.
import type { Clock } from './clock.ts';
import { hasMissedRenewDeadline } from './leaseDecision.ts';

/** Starts watching; the returned function stops it. Re-arm after every renewal. */
export function watchRenewDeadline(
  clock: Clock,
  lastRenewedAtMs: () => number,
  renewDeadlineMs: number,
  onMissed: () => void,
): () => void {
  let cancel: () => void = () => undefined;
  const arm = (delayMs: number): void => {
    cancel = clock.setTimer(() => {
      const renewedAt = lastRenewedAtMs();
      const now = clock.now();
      if (hasMissedRenewDeadline(renewedAt, now, renewDeadlineMs)) onMissed();
      else arm(renewedAt + renewDeadlineMs - now);
    }, delayMs);
  };
  arm(renewDeadlineMs);
  return () => cancel();
}
