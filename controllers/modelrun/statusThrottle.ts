// At most one status write per run per interval while it is going (fast-changing progress
// lives in Redis and is folded in every few seconds), at once for a phase change, and none
// when nothing changed. The last status this process wrote is remembered because the
// informer's copy may not show it yet: comparing against the cache alone would write twice.
import type { ModelRunStatus } from '../../crds/generated/types.ts';

export type WriteDecision = 'unchanged' | 'write' | 'later';

/** JSON with object keys sorted, so two equal statuses compare equal whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(
          Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
      : inner,
  );
}

export class StatusThrottle {
  readonly #intervalMs: number;
  readonly #last = new Map<string, { status: ModelRunStatus; at: number }>();

  constructor(intervalMs: number) {
    this.#intervalMs = intervalMs;
  }

  decide(uid: string, current: ModelRunStatus | undefined, next: ModelRunStatus, now: Date): WriteDecision {
    const last = this.#last.get(uid);
    const nextJson = canonicalJson(next);
    if (canonicalJson(current ?? {}) === nextJson || (last && canonicalJson(last.status) === nextJson)) {
      return 'unchanged';
    }
    const phaseChanged = (last?.status.phase ?? current?.phase) !== next.phase;
    if (!last || phaseChanged || now.getTime() - last.at >= this.#intervalMs) return 'write';
    return 'later';
  }

  /** How long until the run may write again. */
  waitMs(uid: string, now: Date): number {
    const last = this.#last.get(uid);
    return last ? Math.max(1, last.at + this.#intervalMs - now.getTime()) : 1;
  }

  written(uid: string, status: ModelRunStatus, now: Date): void {
    this.#last.set(uid, { status, at: now.getTime() });
  }

  forget(uid: string): void {
    this.#last.delete(uid);
  }
}
