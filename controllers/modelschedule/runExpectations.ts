// The runs this controller just created or deleted, until the informer's cache shows it
// (client-go's "expectations"). A schedule looks again within seconds; if the cache has not
// caught up, a created run would look missing and its batches free, and a run over a different
// range (new batches arrived meanwhile) would be created beside it. Merging what was done into
// what the cache shows closes that window. Entries go once the cache agrees, or after a bound.
import type { ScheduledRunFacts } from '../planning/scheduledRuns.ts';

/** Longer than any informer lag short of a broken watch (which the informer restarts). */
const EXPECTATION_TTL_MS = 120_000;

interface Expected {
  created: Map<string, { facts: ScheduledRunFacts; at: number }>;
  deleted: Map<string, number>;
}

export class RunExpectations {
  readonly #bySchedule = new Map<string, Expected>();

  #of(scheduleUid: string): Expected {
    let expected = this.#bySchedule.get(scheduleUid);
    if (!expected) this.#bySchedule.set(scheduleUid, (expected = { created: new Map(), deleted: new Map() }));
    return expected;
  }

  created(scheduleUid: string, facts: ScheduledRunFacts, now: Date): void {
    this.#of(scheduleUid).created.set(facts.name, { facts, at: now.getTime() });
  }

  deleted(scheduleUid: string, name: string, now: Date): void {
    this.#of(scheduleUid).deleted.set(name, now.getTime());
  }

  /** The cached runs with what was done since merged in: created runs added, deleted ones marked as going. */
  merge(scheduleUid: string, cached: readonly ScheduledRunFacts[], now: Date): ScheduledRunFacts[] {
    const expected = this.#bySchedule.get(scheduleUid);
    if (!expected) return [...cached];
    const cutoff = now.getTime() - EXPECTATION_TTL_MS;
    const names = new Set(cached.map((run) => run.name));
    for (const [name, { at }] of expected.created) {
      if (names.has(name) || at < cutoff) expected.created.delete(name);
    }
    for (const [name, at] of expected.deleted) {
      if (!names.has(name) || at < cutoff) expected.deleted.delete(name);
    }
    const merged = cached.map((run) =>
      expected.deleted.has(run.name) && !run.deleting ? { ...run, deleting: true } : run,
    );
    for (const { facts } of expected.created.values()) merged.push(facts);
    if (expected.created.size === 0 && expected.deleted.size === 0) this.#bySchedule.delete(scheduleUid);
    return merged;
  }

  forget(scheduleUid: string): void {
    this.#bySchedule.delete(scheduleUid);
  }
}
