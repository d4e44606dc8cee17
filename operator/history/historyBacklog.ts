// What the history mirror still owes Postgres: the runs whose state changed since they were
// last written (dirty), the runs that need all their batch facts read again, and the cursor of
// the batch-fact change feed up to which everything is written. A write takes a snapshot of
// this (`take`) and, once committed, confirms it (`confirm`); a failed write confirms nothing,
// so after an outage the next write carries everything that piled up.
//
// Deleted runs (TTL, kubectl delete) are kept with their last state until written, then for a
// while longer so facts a worker reports late still find their run. A standby never writes, so
// it keeps at most MAX_DELETED_RUNS of them, the newest.
import type { ModelRun } from '../../crds/generated/types.ts';
import { TERMINAL_PHASES } from '../../controllers/planning/runStatus.ts';

/** How long a deleted run is remembered after it was written. */
export const DELETED_RUN_RETENTION_MS = 10 * 60_000;
export const MAX_DELETED_RUNS = 10_000;

interface Entry {
  run: ModelRun;
  dirty: boolean;
  /** Read every batch fact of the run (it just finished: its unfinished batches become cancelled). */
  rereadFacts: boolean;
  deletedAtMs?: number;
  writtenAtMs?: number;
}

/** One write's worth of work. */
export interface BacklogSnapshot {
  /** Runs to write, by uid: the state each had when taken. */
  runs: Map<string, ModelRun>;
  /** Runs whose facts are read in full, not just the changes. */
  rereadFacts: string[];
  /** Batch facts changed after this are not written yet. */
  cursor: number;
}

function uidOf(run: ModelRun): string | undefined {
  return run.metadata?.uid || undefined;
}

function isFinishedPhase(run: ModelRun | undefined): boolean {
  return TERMINAL_PHASES.includes(run?.status?.phase ?? 'Pending');
}

export class HistoryBacklog {
  readonly #entries = new Map<string, Entry>();
  readonly #now: () => number;
  #cursor = 0;

  constructor(now: () => number) {
    this.#now = now;
  }

  /** A run was added, changed or listed again. */
  observe(run: ModelRun): void {
    const uid = uidOf(run);
    if (!uid) return;
    const entry = this.#entries.get(uid);
    // With the cursor at 0 every fact is read anyway.
    const justFinished = isFinishedPhase(run) && !isFinishedPhase(entry?.run) && this.#cursor > 0;
    this.#entries.set(uid, {
      run,
      dirty: true,
      rereadFacts: (entry?.rereadFacts ?? false) || justFinished,
      ...(entry?.deletedAtMs !== undefined ? { deletedAtMs: entry.deletedAtMs } : {}),
    });
  }

  /** A run was deleted; `run` is its last state. */
  observeDeleted(run: ModelRun): void {
    const uid = uidOf(run);
    if (!uid) return;
    this.observe(run);
    this.#entries.get(uid)!.deletedAtMs = this.#now();
    this.#prune();
  }

  /** Write everything again and read every batch fact (start of leadership, after an outage). */
  markAllDirty(): void {
    for (const entry of this.#entries.values()) {
      entry.dirty = true;
      entry.rereadFacts = false;
    }
    this.#cursor = 0;
  }

  knows(uid: string): boolean {
    return this.#entries.has(uid);
  }

  /** The last state seen of a run (deleted ones included). */
  runOf(uid: string): ModelRun | undefined {
    return this.#entries.get(uid)?.run;
  }

  get cursor(): number {
    return this.#cursor;
  }

  take(): BacklogSnapshot {
    const runs = new Map<string, ModelRun>();
    const rereadFacts: string[] = [];
    for (const [uid, entry] of this.#entries) {
      if (entry.dirty) runs.set(uid, entry.run);
      if (entry.rereadFacts) rereadFacts.push(uid);
    }
    return { runs, rereadFacts, cursor: this.#cursor };
  }

  /**
   * `snapshot` is written, and the batch facts up to `cursor` (undefined: the facts could not
   * be read, so nothing of them is confirmed). A run changed since it was taken stays dirty.
   */
  confirm(snapshot: BacklogSnapshot, cursor: number | undefined): void {
    const now = this.#now();
    for (const [uid, run] of snapshot.runs) {
      const entry = this.#entries.get(uid);
      if (!entry || entry.run !== run) continue;
      entry.dirty = false;
      entry.writtenAtMs = now;
    }
    if (cursor !== undefined) {
      this.#cursor = Math.max(this.#cursor, cursor);
      for (const uid of snapshot.rereadFacts) {
        const entry = this.#entries.get(uid);
        if (entry) entry.rereadFacts = false;
      }
    }
    this.#prune();
  }

  /** Deleted runs written long enough ago are forgotten; at most MAX_DELETED_RUNS are kept. */
  #prune(): void {
    const now = this.#now();
    const deleted: [string, Entry][] = [];
    for (const [uid, entry] of this.#entries) {
      if (entry.deletedAtMs === undefined) continue;
      const written = !entry.dirty && !entry.rereadFacts && entry.writtenAtMs !== undefined;
      if (written && now - entry.writtenAtMs! >= DELETED_RUN_RETENTION_MS) this.#entries.delete(uid);
      else deleted.push([uid, entry]);
    }
    if (deleted.length <= MAX_DELETED_RUNS) return;
    deleted.sort((a, b) => a[1].deletedAtMs! - b[1].deletedAtMs!);
    for (const [uid] of deleted.slice(0, deleted.length - MAX_DELETED_RUNS)) this.#entries.delete(uid);
  }
}
