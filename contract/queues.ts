// Names of the work queues and of the queues that hang off each one (retry tiers, dead letters).
// Every name that reaches the broker passes through here first: a queue name is never built
// from unchecked input. The rule itself is QUEUE_NAME in names.ts, the same one admission uses.
import { CHAIN_NAME, QUEUE_NAME, followsNameRule, requireName } from './names.ts';

export const LANES = ['realtime', 'backfill'] as const;
export type Lane = (typeof LANES)[number];

/** `reads` models call contracts (eth_call) and use the ABI cache; `nonreads` use ingested data only. */
export const MODEL_KINDS = ['reads', 'nonreads'] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];

/** The ad-hoc lanes an operator can point a ModelRun at explicitly (`backfill_1` … `backfill_4`). */
export const AD_HOC_QUEUES = ['backfill_1', 'backfill_2', 'backfill_3', 'backfill_4'] as const;

// The lane and kind are the last two segments, so a chain name with underscores still parses.
const LANE_QUEUE = new RegExp(
  `^(${CHAIN_NAME.pattern.source.slice(1, -1)})_(realtime|backfill)_(reads|nonreads)$`,
);

export type WorkQueue =
  | { kind: 'lane'; name: string; chain: string; lane: Lane; modelKind: ModelKind }
  | { kind: 'adHoc'; name: string };

/** `<chain>_<realtime|backfill>_<reads|nonreads>`, e.g. `ethereum_realtime_reads`. */
export function workQueueName(chain: string, lane: Lane, modelKind: ModelKind): string {
  requireName(CHAIN_NAME, chain);
  if (!LANES.includes(lane)) throw new Error(`invalid lane ${JSON.stringify(lane)}`);
  if (!MODEL_KINDS.includes(modelKind)) throw new Error(`invalid model kind ${JSON.stringify(modelKind)}`);
  return `${chain}_${lane}_${modelKind}`;
}

/** Parses a work queue name; undefined for anything that is not one (including retry and DLQ names). */
export function parseWorkQueueName(name: string): WorkQueue | undefined {
  if (!followsNameRule(QUEUE_NAME, name)) return undefined;
  if ((AD_HOC_QUEUES as readonly string[]).includes(name)) return { kind: 'adHoc', name };
  const match = LANE_QUEUE.exec(name);
  if (!match) return undefined;
  return { kind: 'lane', name, chain: match[1]!, lane: match[2] as Lane, modelKind: match[3] as ModelKind };
}

export function assertWorkQueueName(name: string): string {
  return requireName(QUEUE_NAME, name, (message) => new Error(`invalid work queue: ${message}`));
}

/** Where a batch lands after its last failed attempt (or when it can never succeed). */
export function deadLetterQueueName(workQueue: string): string {
  return `${assertWorkQueueName(workQueue)}.dlq`;
}

/**
 * The waiting room for a retry after `delayMs`: a queue with that message TTL that dead-letters
 * back to the work queue. One queue per delay keeps expiry in FIFO order (a per-message TTL
 * would wait behind the head of the queue).
 */
export function retryQueueName(workQueue: string, delayMs: number): string {
  if (!Number.isSafeInteger(delayMs) || delayMs <= 0) throw new Error(`invalid retry delay ${delayMs}`);
  return `${assertWorkQueueName(workQueue)}.retry.${delayMs}ms`;
}
