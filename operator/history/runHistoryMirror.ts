// Mirrors ModelRuns and their batches into the run history in Postgres, so the history outlives
// the resources (TTL deletes them). Sources: the ModelRun informer (every add, change, delete
// and resync is remembered in the backlog, by every replica) and the batch facts workers write
// to Redis (read as a change feed). Only the leader writes: `lead` runs while this replica
// holds the Lease, and every `flushIntervalMs` writes what is dirty in one transaction.
//
// Postgres is not on the hot path. Nothing here blocks reconciling: a write that fails leaves
// the backlog as it was and is retried with backoff; when the database answers again, and at
// the start of every leadership, the whole cluster is written again (the upserts make that
// harmless), so the history ends equal to what the cluster says. The schema is migrated at
// start by every replica (migrations take an advisory lock), retried until the database answers.
import type { Logger } from 'pino';
import { backoffDelayMs, type BackoffPolicy } from '../../contract/backoff.ts';
import type { ReportedBatchFact } from '../../contract/batchFacts.ts';
import type { HistoryRows } from '../../contract/runHistory.ts';
import type { ModelRun } from '../../crds/generated/types.ts';
import { historyRowsOf } from '../../controllers/planning/runHistoryRows.ts';
import { type Clock, sleepOn, systemClock } from '../runtime/clock.ts';
import type { Informer } from '../runtime/informer.ts';
import { HistoryBacklog } from './historyBacklog.ts';

/** Where the rows go (adapters/postgres). */
export interface HistoryDatabase {
  migrate(): Promise<{ applied: number[]; version: number }>;
  write(rows: HistoryRows): Promise<{ runs: number; transitions: number; batches: number }>;
}

/** Where the batch facts come from (adapters/redis RunProgressStore). */
export interface BatchFactFeed {
  readBatchFactChanges(
    since: number,
    wanted: (runUid: string) => boolean,
  ): Promise<{ cursor: number; byRun: Map<string, ReportedBatchFact[]> }>;
  readBatchFacts(runUid: string): Promise<ReportedBatchFact[]>;
}

export interface RunHistoryMirrorOptions {
  runs: Pick<Informer<ModelRun>, 'on' | 'waitForSync'>;
  facts: BatchFactFeed;
  database: HistoryDatabase;
  log: Logger;
  /** Between writes while leading; rows reach Postgres within about this long of a change. */
  flushIntervalMs?: number;
  /** Between attempts while the database (or Redis) does not answer. */
  retryBackoff?: BackoffPolicy;
  clock?: Clock;
}

export const DEFAULT_FLUSH_INTERVAL_MS = 2_000;
const DEFAULT_RETRY_BACKOFF: BackoffPolicy = { baseDelayMs: 500, maxDelayMs: 5_000, jitter: true };

export class RunHistoryMirror {
  readonly #options: RunHistoryMirrorOptions;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #backlog: HistoryBacklog;
  readonly #stopping = new AbortController();
  #migrated = false;
  #migration: Promise<void> | undefined;
  #migrationLoop: Promise<void> | undefined;
  #factsUnavailable = false;

  constructor(options: RunHistoryMirrorOptions) {
    this.#options = options;
    this.#log = options.log.child({ component: 'run-history' });
    this.#clock = options.clock ?? systemClock;
    this.#backlog = new HistoryBacklog(() => this.#clock.now());
    // Handlers only remember: the informer calls them inline.
    const remember = (run: ModelRun) => this.#backlog.observe(run);
    for (const type of ['add', 'update', 'resync'] as const) options.runs.on(type, remember);
    options.runs.on('delete', (run) => this.#backlog.observeDeleted(run));
  }

  /** Migrates the schema in the background, retrying until the database answers. */
  start(): void {
    this.#migrationLoop ??= (async () => {
      for (let failures = 0; !this.#migrated && !this.#stopping.signal.aborted;) {
        try {
          await this.#ensureMigrated();
        } catch (error) {
          failures += 1;
          if (failures === 1) {
            this.#log.warn(
              { err: (error as Error).message },
              'run history: cannot migrate the schema yet; retrying (the operator works on without history)',
            );
          }
          await sleepOn(this.#clock, this.#retryDelay(failures), this.#stopping.signal);
        }
      }
    })();
  }

  async stop(): Promise<void> {
    this.#stopping.abort();
    await this.#migrationLoop;
  }

  /** The leader's part (with ControllerManager.lead): write until `signal` aborts. */
  async lead(signal: AbortSignal): Promise<void> {
    await this.#options.runs.waitForSync(signal);
    if (signal.aborted) return;
    // Reconcile the history with the cluster as this replica sees it (the informer's cache, and
    // the runs it saw deleted).
    this.#backlog.markAllDirty();
    this.#log.info('run history: writing as leader');
    let failures = 0;
    while (!signal.aborted) {
      let delay = this.#options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS;
      try {
        await this.#ensureMigrated();
        await this.#flush();
        if (failures > 0) {
          this.#log.info(
            { failedWrites: failures },
            'run history: database back; writing the whole cluster again',
          );
          this.#backlog.markAllDirty();
          failures = 0;
          continue;
        }
      } catch (error) {
        failures += 1;
        if (failures === 1) {
          this.#log.warn(
            { err: (error as Error).message },
            'run history: cannot write to the database; reconciling goes on and the history catches up when it is back',
          );
        }
        delay = this.#retryDelay(failures);
      }
      await sleepOn(this.#clock, delay, signal);
    }
    this.#log.info('run history: stopped writing');
  }

  /** Writes what is dirty, with the batch facts changed since the last write, in one transaction. */
  async #flush(): Promise<void> {
    const snapshot = this.#backlog.take();
    const facts = await this.#readFacts(snapshot.cursor, snapshot.rereadFacts);
    const byRun = facts?.byRun ?? new Map<string, ReportedBatchFact[]>();
    const runs = new Map(snapshot.runs);
    for (const uid of byRun.keys()) {
      // Batch rows refer to their run's row: write the run with them.
      const run = this.#backlog.runOf(uid);
      if (run && !runs.has(uid)) runs.set(uid, run);
    }
    const rows: HistoryRows = { runs: [], transitions: [], batches: [] };
    for (const [uid, run] of runs) {
      const implied = historyRowsOf(run, byRun.get(uid) ?? []);
      if (!implied) continue;
      rows.runs.push(...implied.runs);
      rows.transitions.push(...implied.transitions);
      rows.batches.push(...implied.batches);
    }
    if (rows.runs.length > 0) {
      const written = await this.#options.database.write(rows);
      this.#log.debug({ ...written, considered: rows.runs.length }, 'run history written');
    }
    this.#backlog.confirm(snapshot, facts?.cursor);
  }

  /** Facts changed after `since`, and all facts of `reread`; undefined while Redis does not answer. */
  async #readFacts(
    since: number,
    reread: readonly string[],
  ): Promise<{ cursor: number; byRun: Map<string, ReportedBatchFact[]> } | undefined> {
    try {
      const changes = await this.#options.facts.readBatchFactChanges(since, (uid) =>
        this.#backlog.knows(uid),
      );
      const full = await Promise.all(reread.map((uid) => this.#options.facts.readBatchFacts(uid)));
      reread.forEach((uid, index) => changes.byRun.set(uid, full[index]!));
      if (this.#factsUnavailable) this.#log.info('run history: batch facts readable again');
      this.#factsUnavailable = false;
      return changes;
    } catch (error) {
      if (!this.#factsUnavailable) {
        this.#log.warn(
          { err: (error as Error).message },
          'run history: cannot read batch facts from Redis; writing runs only until it answers',
        );
      }
      this.#factsUnavailable = true;
      return undefined;
    }
  }

  async #ensureMigrated(): Promise<void> {
    if (this.#migrated) return;
    this.#migration ??= this.#options.database
      .migrate()
      .then((result) => {
        this.#migrated = true;
        this.#log.info({ version: result.version, applied: result.applied }, 'run history schema ready');
      })
      .finally(() => (this.#migration = undefined));
    await this.#migration;
  }

  #retryDelay(failures: number): number {
    return backoffDelayMs(this.#options.retryBackoff ?? DEFAULT_RETRY_BACKOFF, failures);
  }
}
