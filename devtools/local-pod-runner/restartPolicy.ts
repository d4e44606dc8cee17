// When a container that exited starts again, and after how long. Kubernetes'
// back-off starts at 10 s and caps at 5 min; a local stand-in waits less so a
// crashing worker shows up quickly, but still backs off so it cannot spin.

export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';

export function restartPolicyOf(value: string | undefined): RestartPolicy {
  return value === 'OnFailure' || value === 'Never' ? value : 'Always';
}

export function shouldRestart(policy: RestartPolicy, exitCode: number): boolean {
  if (policy === 'Always') return true;
  if (policy === 'OnFailure') return exitCode !== 0;
  return false;
}

export const RESTART_BACKOFF = { initialMs: 1_000, maxMs: 30_000, resetAfterRunningMs: 60_000 };

/** Delay before the n-th consecutive restart (n ≥ 1): 1 s, 2 s, 4 s, … capped. */
export function restartDelayMs(consecutiveRestarts: number, backoff = RESTART_BACKOFF): number {
  const exponent = Math.max(0, consecutiveRestarts - 1);
  return Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(exponent, 30));
}
