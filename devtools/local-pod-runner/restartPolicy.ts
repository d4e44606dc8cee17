// When a container that exited starts again, and after how long. Kubernetes'
// back-off starts at 10 s and caps at 5 min; a local stand-in waits less so a
// crashing worker shows up quickly, but still backs off so it cannot spin.
import { backoffDelayMs, type BackoffPolicy } from '../../contract/backoff.ts';

export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';

export function restartPolicyOf(value: string | undefined): RestartPolicy {
  return value === 'OnFailure' || value === 'Never' ? value : 'Always';
}

export function shouldRestart(policy: RestartPolicy, exitCode: number): boolean {
  if (policy === 'Always') return true;
  if (policy === 'OnFailure') return exitCode !== 0;
  return false;
}

/** Plain doubling, as a kubelet's CrashLoopBackOff (no jitter: one pod, one process). */
export const RESTART_BACKOFF: BackoffPolicy = { baseDelayMs: 1_000, maxDelayMs: 30_000, jitter: false };
/** A container that ran this long without exiting starts its back-off afresh. */
export const RESTART_BACKOFF_RESET_AFTER_MS = 60_000;

/** Delay before the n-th consecutive restart (n ≥ 1): 1 s, 2 s, 4 s, … capped. */
export function restartDelayMs(consecutiveRestarts: number, backoff = RESTART_BACKOFF): number {
  return backoffDelayMs(backoff, Math.max(1, consecutiveRestarts));
}
