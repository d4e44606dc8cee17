// Per-run progress in Redis: workers report each batch outcome, the operator reads the totals
// every few seconds and folds them into ModelRun status (fast-changing counts stay out of the
// API server). Keys, per ModelRun uid (a recreated run with the same name starts afresh):
//
//   <prefix>run:<uid>:progress   hash: succeeded, skipped, failed, retried, blocks, rows,
//                                      lastProgressAt, lastFailureAt (ms since the epoch)
//   <prefix>run:<uid>:outcomes   hash: batchId → latest outcome (what makes reports idempotent)
//   <prefix>run:<uid>:failures   hash: batchId → JSON {error, attempt, failedAt}, at most
//                                      maxFailures entries; removed when the batch later succeeds
//   <prefix>run:<uid>:dispatched set: batchIds the operator has sent (its dispatch ledger)
//   <prefix>run:<uid>:cancelled  flag: the run is gone or ended; workers drop its queued batches
//   <prefix>run:<uid>:batches    hash: batchId → JSON facts (worker, attempts, times, rows, last
//                                      error), with a change feed for the run history (batchFacts.ts)
//
// Every key expires `ttlSeconds` after the last report, so finished runs do not pile up.
import type IORedis from 'ioredis';
import type { BatchFactEvent, ReportedBatchFact } from '../../contract/batchFacts.ts';
import { type BatchFactChanges, BatchFactStore } from './batchFacts.ts';
import { BATCH_OUTCOMES, type BatchOutcome } from './progressRules.ts';
import { isBatchId } from '../../contract/batchMessage.ts';
import { RUN_UID, followsNameRule } from '../../contract/names.ts';

type RedisClient = InstanceType<typeof IORedis.Redis>;

const PREFIX_PATTERN = /^[A-Za-z0-9_.:-]{0,64}$/;

export const DEFAULT_PROGRESS_PREFIX = 'model-runner:';
export const DEFAULT_MAX_FAILURES = 50;
export const DEFAULT_PROGRESS_TTL_SECONDS = 30 * 24 * 3600;
/** Longest error text kept per failed batch. */
export const MAX_FAILURE_ERROR_CHARS = 2_000;

// The rules of progressRules.ts, applied atomically. KEYS: progress, outcomes, failures.
// ARGV: batchId, outcome, blocks, rows, nowMs, failureJson, maxFailures, ttlSeconds.
const RECORD_OUTCOME = `
local previous = redis.call('HGET', KEYS[2], ARGV[1])
local outcome = ARGV[2]
local counted = 0
if not previous then
  counted = 1
elseif previous == 'failed' and outcome ~= 'failed' then
  redis.call('HINCRBY', KEYS[1], 'failed', -1)
  redis.call('HDEL', KEYS[3], ARGV[1])
  counted = 1
elseif previous == 'skipped' and outcome == 'succeeded' then
  redis.call('HINCRBY', KEYS[1], 'skipped', -1)
  counted = 1
end
if counted == 1 then
  redis.call('HSET', KEYS[2], ARGV[1], outcome)
  redis.call('HINCRBY', KEYS[1], outcome, 1)
  if outcome == 'succeeded' then
    redis.call('HINCRBY', KEYS[1], 'blocks', ARGV[3])
    redis.call('HINCRBY', KEYS[1], 'rows', ARGV[4])
  end
  if outcome == 'failed' then
    redis.call('HSET', KEYS[1], 'lastFailureAt', ARGV[5])
    if redis.call('HLEN', KEYS[3]) < tonumber(ARGV[7]) then
      redis.call('HSET', KEYS[3], ARGV[1], ARGV[6])
    end
  else
    redis.call('HSET', KEYS[1], 'lastProgressAt', ARGV[5])
  end
end
for i = 1, 3 do redis.call('EXPIRE', KEYS[i], ARGV[8]) end
return counted
`;

export interface BatchReport {
  runUid: string;
  batchId: string;
  outcome: BatchOutcome;
  /** Blocks the batch covered (counted for `succeeded` only). */
  blocks: number;
  /** Rows it wrote, all datasets together (counted for `succeeded` only). */
  rows: number;
  /** For `failed`: why, and on which attempt. */
  error?: string;
  attempt?: number;
  now: Date;
}

export interface FailedBatch {
  batchId: string;
  error: string;
  attempt: number | undefined;
  failedAt: Date;
}

export interface RunKeys {
  progress: string;
  outcomes: string;
  failures: string;
  dispatched: string;
  cancelled: string;
  batchFacts: string;
  batchChanges: string;
}

export interface RunProgress {
  succeeded: number;
  skipped: number;
  failed: number;
  /** Failed attempts that were retried (an event count, not a batch count). */
  retried: number;
  blocks: number;
  rows: number;
  lastProgressAt: Date | undefined;
  lastFailureAt: Date | undefined;
  /** Newest first; at most maxFailures. */
  failedBatches: FailedBatch[];
}

export interface ProgressStoreOptions {
  prefix?: string;
  maxFailures?: number;
  ttlSeconds?: number;
}

function assertUid(uid: string): void {
  if (!followsNameRule(RUN_UID, uid)) throw new Error(`invalid run uid ${JSON.stringify(uid)}`);
}

function toCount(value: string | undefined): number {
  const parsed = Number(value ?? 0);
  return Number.isSafeInteger(parsed) ? parsed : 0;
}

function toDate(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const ms = Number(value);
  return Number.isFinite(ms) ? new Date(ms) : undefined;
}

export class RunProgressStore {
  readonly #redis: RedisClient;
  readonly #prefix: string;
  readonly #maxFailures: number;
  readonly #ttlSeconds: number;
  readonly #facts: BatchFactStore;

  constructor(redis: RedisClient, options: ProgressStoreOptions = {}) {
    const prefix = options.prefix ?? DEFAULT_PROGRESS_PREFIX;
    if (!PREFIX_PATTERN.test(prefix)) throw new Error(`invalid Redis key prefix ${JSON.stringify(prefix)}`);
    this.#redis = redis;
    this.#prefix = prefix;
    this.#maxFailures = options.maxFailures ?? DEFAULT_MAX_FAILURES;
    this.#ttlSeconds = options.ttlSeconds ?? DEFAULT_PROGRESS_TTL_SECONDS;
    this.#facts = new BatchFactStore(redis, prefix, this.#ttlSeconds);
  }

  keys(runUid: string): RunKeys {
    assertUid(runUid);
    const base = `${this.#prefix}run:${runUid}`;
    return {
      progress: `${base}:progress`,
      outcomes: `${base}:outcomes`,
      failures: `${base}:failures`,
      dispatched: `${base}:dispatched`,
      cancelled: `${base}:cancelled`,
      batchFacts: this.#facts.keys(runUid).facts,
      batchChanges: this.#facts.keys(runUid).changes,
    };
  }

  /** Records a batch's outcome; true when it changed the counts, false for a repeat. */
  async recordOutcome(report: BatchReport): Promise<boolean> {
    if (!isBatchId(report.batchId)) throw new Error(`invalid batch id ${JSON.stringify(report.batchId)}`);
    if (!BATCH_OUTCOMES.includes(report.outcome))
      throw new Error(`invalid outcome ${JSON.stringify(report.outcome)}`);
    for (const [name, value] of [
      ['blocks', report.blocks],
      ['rows', report.rows],
    ] as const) {
      if (!Number.isSafeInteger(value) || value < 0) throw new Error(`invalid ${name} count ${value}`);
    }
    const keys = this.keys(report.runUid);
    const failure = JSON.stringify({
      error: (report.error ?? '').slice(0, MAX_FAILURE_ERROR_CHARS),
      attempt: report.attempt,
      failedAt: report.now.getTime(),
    });
    const counted = await this.#redis.eval(
      RECORD_OUTCOME,
      3,
      keys.progress,
      keys.outcomes,
      keys.failures,
      report.batchId,
      report.outcome,
      String(report.blocks),
      String(report.rows),
      String(report.now.getTime()),
      failure,
      String(this.#maxFailures),
      String(this.#ttlSeconds),
    );
    return counted === 1;
  }

  /** Counts a failed attempt that will be retried (the batch is not failed yet). */
  async recordRetry(runUid: string, now: Date): Promise<void> {
    const keys = this.keys(runUid);
    await this.#redis
      .multi()
      .hincrby(keys.progress, 'retried', 1)
      .hset(keys.progress, 'lastFailureAt', String(now.getTime()))
      .expire(keys.progress, this.#ttlSeconds)
      .exec();
  }

  /** The operator's view of a run. A run nobody reported on reads as all zeros. */
  async readProgress(runUid: string): Promise<RunProgress> {
    const keys = this.keys(runUid);
    const [counts, failures] = await Promise.all([
      this.#redis.hgetall(keys.progress),
      this.#redis.hgetall(keys.failures),
    ]);
    const failedBatches: FailedBatch[] = Object.entries(failures).map(([batchId, json]) => {
      const parsed = JSON.parse(json) as { error?: string; attempt?: number; failedAt?: number };
      return {
        batchId,
        error: parsed.error ?? '',
        attempt: parsed.attempt,
        failedAt: new Date(parsed.failedAt ?? 0),
      };
    });
    failedBatches.sort(
      (a, b) => b.failedAt.getTime() - a.failedAt.getTime() || a.batchId.localeCompare(b.batchId),
    );
    return {
      succeeded: toCount(counts.succeeded),
      skipped: toCount(counts.skipped),
      failed: toCount(counts.failed),
      retried: toCount(counts.retried),
      blocks: toCount(counts.blocks),
      rows: toCount(counts.rows),
      lastProgressAt: toDate(counts.lastProgressAt),
      lastFailureAt: toDate(counts.lastFailureAt),
      failedBatches,
    };
  }

  /** The latest outcome of every batch reported so far, by batch id. */
  async readOutcomes(runUid: string): Promise<Map<string, BatchOutcome>> {
    const outcomes = await this.#redis.hgetall(this.keys(runUid).outcomes);
    return new Map(
      Object.entries(outcomes).filter((entry): entry is [string, BatchOutcome] =>
        BATCH_OUTCOMES.includes(entry[1] as BatchOutcome),
      ),
    );
  }

  /**
   * The operator's dispatch ledger: batches it has sent. Written after the broker confirmed
   * them, so a restart re-sends at most the batches between a confirm and this write (a
   * duplicate message is harmless: the worker skips a complete batch) and never loses one.
   */
  async recordDispatched(runUid: string, batchIds: readonly string[]): Promise<void> {
    if (batchIds.length === 0) return;
    for (const batchId of batchIds) {
      if (!isBatchId(batchId)) throw new Error(`invalid batch id ${JSON.stringify(batchId)}`);
    }
    const key = this.keys(runUid).dispatched;
    await this.#redis
      .multi()
      .sadd(key, ...batchIds)
      .expire(key, this.#ttlSeconds)
      .exec();
  }

  async readDispatched(runUid: string): Promise<Set<string>> {
    return new Set(await this.#redis.smembers(this.keys(runUid).dispatched));
  }

  /** The run was deleted or ended early: workers drop its batches still waiting on a queue. */
  async markCancelled(runUid: string): Promise<void> {
    await this.#redis.set(this.keys(runUid).cancelled, '1', 'EX', this.#ttlSeconds);
  }

  async isCancelled(runUid: string): Promise<boolean> {
    return (await this.#redis.exists(this.keys(runUid).cancelled)) === 1;
  }

  /**
   * A worker's report on one batch for the run history: written when an attempt starts and
   * when it ends (batchFactRules.ts says how reports combine). True when it changed the facts.
   */
  async recordBatchFact(runUid: string, batchId: string, event: BatchFactEvent): Promise<boolean> {
    return this.#facts.record(runUid, batchId, event);
  }

  async readBatchFact(runUid: string, batchId: string): Promise<ReportedBatchFact | undefined> {
    return this.#facts.readFact(runUid, batchId);
  }

  async readBatchFacts(runUid: string): Promise<ReportedBatchFact[]> {
    return this.#facts.readAll(runUid);
  }

  /** Batch facts changed after the cursor `since` (0: all), for the runs `wanted` accepts. */
  async readBatchFactChanges(since: number, wanted?: (runUid: string) => boolean): Promise<BatchFactChanges> {
    return this.#facts.readChanges(since, wanted);
  }

  /** Forgets a run entirely. */
  async deleteRun(runUid: string): Promise<void> {
    const keys = this.keys(runUid);
    await this.#redis.del(keys.progress, keys.outcomes, keys.failures, keys.dispatched, keys.cancelled);
    await this.#facts.deleteRun(runUid);
  }
}
