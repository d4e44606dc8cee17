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

/**
 * The last status this process wrote per object, and when: what every status throttle keeps
 * (runs here, schedules in scheduleStatusWrites.ts). Each decides on its own what is urgent.
 */
export class StatusWriteMemory<Status> {
  readonly #intervalMs: number;
  readonly #last = new Map<string, { status: Status; at: number }>();

  constructor(intervalMs: number) {
    this.#intervalMs = intervalMs;
  }

  lastWritten(uid: string): { status: Status; at: number } | undefined {
    return this.#last.get(uid);
  }

  /** True when the interval has passed since the last write (or there was none). */
  intervalPassed(uid: string, now: Date): boolean {
    const last = this.#last.get(uid);
    return !last || now.getTime() - last.at >= this.#intervalMs;
  }

  /** How long until the object may write again. */
  waitMs(uid: string, now: Date): number {
    const last = this.#last.get(uid);
    return last ? Math.max(1, last.at + this.#intervalMs - now.getTime()) : 1;
  }

  written(uid: string, status: Status, now: Date): void {
    this.#last.set(uid, { status, at: now.getTime() });
  }

  forget(uid: string): void {
    this.#last.delete(uid);
  }
}

export class StatusThrottle extends StatusWriteMemory<ModelRunStatus> {
  decide(uid: string, current: ModelRunStatus | undefined, next: ModelRunStatus, now: Date): WriteDecision {
    const last = this.lastWritten(uid);
    const nextJson = canonicalJson(next);
    if (canonicalJson(current ?? {}) === nextJson || (last && canonicalJson(last.status) === nextJson)) {
      return 'unchanged';
    }
    const phaseChanged = (last?.status.phase ?? current?.phase) !== next.phase;
    if (phaseChanged || this.intervalPassed(uid, now)) return 'write';
    return 'later';
  }
}
