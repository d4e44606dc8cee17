// Per-batch facts in Redis (who worked a batch, when, its attempts, rows and last error), and a
// change feed the operator's history mirror reads incrementally. Keys:
//
//   <prefix>run:<uid>:batches         hash: batchId → JSON BatchFact
//   <prefix>run:<uid>:batch-changes   sorted set: batchId scored by the sequence of its last change
//   <prefix>batch-facts:runs          sorted set: run uid scored by the sequence of its last change
//   <prefix>batch-facts:seq           counter: one sequence for every change under the prefix
//
// Every change takes the next sequence number in the same script that writes it, so a reader
// that remembers the highest number it has seen (its cursor) finds every later change by score:
// nothing is missed and nothing is read twice in the common case. The per-run keys expire with
// the run's other progress keys; the sequence never expires (a counter that restarted would
// hide changes behind a reader's cursor) and the runs index keeps the newest MAX_INDEXED_RUNS.
import type IORedis from 'ioredis';
import type { BatchFact, BatchFactEvent, ReportedBatchFact } from '../../contract/batchFacts.ts';
import { isBatchId } from '../../contract/batchMessage.ts';
import { RUN_UID, followsNameRule } from '../../contract/names.ts';

type RedisClient = InstanceType<typeof IORedis.Redis>;

const WORKER_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,252}$/;
const STATES = ['retrying', 'interrupted', 'succeeded', 'skipped', 'failed'];

/** Runs the index of changed runs remembers; older ones have long finished. */
export const MAX_INDEXED_RUNS = 100_000;
/** Longest error text kept per batch. */
export const MAX_FACT_ERROR_CHARS = 2_000;

// The rules of batchFactRules.ts, applied atomically.
// KEYS: facts, batch-changes, runs index, seq. ARGV: batchId, runUid, eventJson, ttlSeconds, maxRuns.
const RECORD_FACT = `
local stored = redis.call('HGET', KEYS[1], ARGV[1])
local previous = nil
if stored then previous = cjson.decode(stored) end
local event = cjson.decode(ARGV[3])
if previous and (previous.state == 'succeeded' or previous.state == 'skipped') then return 0 end
if previous and event.attempt < previous.attempts then return 0 end
local fact = {minBlock = event.minBlock, maxBlock = event.maxBlock, attempts = event.attempt, worker = event.worker}
if event.kind == 'started' then
  fact.state = 'running'
  fact.startedAt = event.at
  if previous and previous.lastError then fact.lastError = previous.lastError end
else
  fact.state = event.state
  if previous and previous.startedAt then fact.startedAt = previous.startedAt end
  fact.finishedAt = event.at
  if event.rows then fact.rows = event.rows end
  if event.error then
    fact.lastError = event.error
  elseif previous and previous.lastError then
    fact.lastError = previous.lastError
  end
end
local seq = redis.call('INCR', KEYS[4])
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(fact))
redis.call('ZADD', KEYS[2], seq, ARGV[1])
redis.call('ZADD', KEYS[3], seq, ARGV[2])
redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -(tonumber(ARGV[5]) + 1))
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[4])
return 1
`;

export interface BatchFactKeys {
  facts: string;
  changes: string;
}

/** Facts changed since a cursor, by run, and the cursor to read from next time. */
export interface BatchFactChanges {
  cursor: number;
  byRun: Map<string, ReportedBatchFact[]>;
}

function assertUid(uid: string): void {
  if (!followsNameRule(RUN_UID, uid)) throw new Error(`invalid run uid ${JSON.stringify(uid)}`);
}

function checkEvent(batchId: string, event: BatchFactEvent): void {
  if (!isBatchId(batchId)) throw new Error(`invalid batch id ${JSON.stringify(batchId)}`);
  if (!WORKER_PATTERN.test(event.worker))
    throw new Error(`invalid worker name ${JSON.stringify(event.worker)}`);
  if (event.kind === 'finished' && !STATES.includes(event.state))
    throw new Error(`invalid batch state ${JSON.stringify(event.state)}`);
  const counts: [string, number | undefined][] = [
    ['minBlock', event.minBlock],
    ['maxBlock', event.maxBlock],
    ['attempt', event.attempt],
    ['at', event.at],
    ['rows', event.kind === 'finished' ? event.rows : undefined],
  ];
  for (const [name, value] of counts) {
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 0))
      throw new Error(`invalid ${name} ${value}`);
  }
}

function parseFact(batchId: string, json: string | null): ReportedBatchFact | undefined {
  if (json === null) return undefined;
  return { batchId, ...(JSON.parse(json) as BatchFact) };
}

/** Results of a pipeline, or the first error in it. */
function pipelineValues(results: [Error | null, unknown][] | null): unknown[] {
  return (results ?? []).map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}

export class BatchFactStore {
  readonly #redis: RedisClient;
  readonly #prefix: string;
  readonly #ttlSeconds: number;

  /** `prefix` is checked by the caller (RunProgressStore, which owns the key layout). */
  constructor(redis: RedisClient, prefix: string, ttlSeconds: number) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#ttlSeconds = ttlSeconds;
  }

  keys(runUid: string): BatchFactKeys {
    assertUid(runUid);
    const base = `${this.#prefix}run:${runUid}`;
    return { facts: `${base}:batches`, changes: `${base}:batch-changes` };
  }

  get runsIndexKey(): string {
    return `${this.#prefix}batch-facts:runs`;
  }

  get sequenceKey(): string {
    return `${this.#prefix}batch-facts:seq`;
  }

  /** Applies one report; true when it changed the batch's facts. */
  async record(runUid: string, batchId: string, event: BatchFactEvent): Promise<boolean> {
    checkEvent(batchId, event);
    const keys = this.keys(runUid);
    const payload: BatchFactEvent =
      event.kind === 'finished' && event.error !== undefined
        ? { ...event, error: event.error.slice(0, MAX_FACT_ERROR_CHARS) }
        : event;
    const changed = await this.#redis.eval(
      RECORD_FACT,
      4,
      keys.facts,
      keys.changes,
      this.runsIndexKey,
      this.sequenceKey,
      batchId,
      runUid,
      JSON.stringify(payload),
      String(this.#ttlSeconds),
      String(MAX_INDEXED_RUNS),
    );
    return changed === 1;
  }

  async readFact(runUid: string, batchId: string): Promise<ReportedBatchFact | undefined> {
    return parseFact(batchId, await this.#redis.hget(this.keys(runUid).facts, batchId));
  }

  /** Every fact of one run, by first block. */
  async readAll(runUid: string): Promise<ReportedBatchFact[]> {
    const all = await this.#redis.hgetall(this.keys(runUid).facts);
    return Object.entries(all)
      .map(([batchId, json]) => parseFact(batchId, json)!)
      .sort((a, b) => a.minBlock - b.minBlock);
  }

  /**
   * Every fact changed after `since` (0: every fact there is), for the runs `wanted` accepts.
   * The cursor returned covers the runs not wanted too: their changes are not read again.
   */
  async readChanges(
    since: number,
    wanted: (runUid: string) => boolean = () => true,
  ): Promise<BatchFactChanges> {
    const after = `(${since}`;
    const flat = await this.#redis.zrangebyscore(this.runsIndexKey, after, '+inf', 'WITHSCORES');
    let cursor = since;
    const runUids: string[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const uid = flat[i]!;
      cursor = Math.max(cursor, Number(flat[i + 1]));
      if (followsNameRule(RUN_UID, uid) && wanted(uid)) runUids.push(uid);
    }
    const byRun = new Map<string, ReportedBatchFact[]>();
    if (runUids.length === 0) return { cursor, byRun };
    const changed = this.#redis.pipeline();
    for (const uid of runUids) changed.zrangebyscore(this.keys(uid).changes, after, '+inf');
    const batchIds = pipelineValues(await changed.exec()) as string[][];
    const reads = this.#redis.pipeline();
    runUids.forEach((uid, index) => {
      if (batchIds[index]!.length > 0) reads.hmget(this.keys(uid).facts, ...batchIds[index]!);
    });
    const values = pipelineValues(await reads.exec()) as (string | null)[][];
    let next = 0;
    runUids.forEach((uid, index) => {
      const ids = batchIds[index]!;
      if (ids.length === 0) return;
      const jsons = values[next++]!;
      const facts = ids
        .map((batchId, position) => parseFact(batchId, jsons[position] ?? null))
        .filter((fact): fact is ReportedBatchFact => fact !== undefined);
      if (facts.length > 0) byRun.set(uid, facts);
    });
    return { cursor, byRun };
  }

  /** Forgets a run's facts. */
  async deleteRun(runUid: string): Promise<void> {
    const keys = this.keys(runUid);
    await this.#redis.multi().del(keys.facts, keys.changes).zrem(this.runsIndexKey, runUid).exec();
  }
}
