// The wire format of one batch of work, as the operator enqueues it and the worker receives it
// (from a queue, or derived by a Job's pod from its index). Validated on receipt: a message that
// fails here is dead-lettered with the reason and never reaches a model. Every ModelRun field
// that changes what a worker does travels in the message (model, version, chain, blocks,
// force, retries, sink topic), so a worker never needs to read the ModelRun.
import type { BlockRange } from './apiConversions.ts';
import {
  CHAIN_NAME,
  MODEL_NAME,
  NAMESPACE_NAME,
  RUN_NAME,
  RUN_UID,
  TOPIC_NAME,
  followsNameRule,
  nameRuleProblem,
} from './names.ts';

/** The ModelRun that asked for the batch. `uid` tells apart two runs that reused a name. */
export interface RunRef {
  namespace: string;
  name: string;
  uid: string;
}

/** What a run asks of every one of its batches (the ModelRun spec, behind the API boundary). */
export interface RunRequest {
  runId: RunRef;
  model: string;
  /** The model version the run asked for; the worker refuses a version it does not have. */
  version: number;
  chain: string;
  /** Half-open. */
  range: BlockRange;
  /** Reprocess even when output markers say the batch is complete. */
  force: boolean;
  /** How many times a batch may be tried again after its first failure. */
  maxRetriesPerBatch: number;
  /** The run's Kafka topic; undefined: the worker's default `<env>-<chain>-sink`. */
  sinkTopic?: string;
}

export interface BatchMessage {
  runId: RunRef;
  /** Deterministic: `<chain>/<model>/<minBlock>`, the same on every delivery and every run. */
  batchId: string;
  model: string;
  version: number;
  chain: string;
  /** First block of the batch, inclusive. */
  minBlock: number;
  /** End of the batch, exclusive (the marker convention): blocks minBlock … maxBlock - 1. */
  maxBlock: number;
  force: boolean;
  maxRetriesPerBatch: number;
  sinkTopic?: string;
  /** This delivery's attempt, from 1. */
  attempt: number;
  /** ISO 8601 time the message became ready on its work queue (for time-in-queue). */
  enqueuedAt: string;
}

export type BatchMessageParse = { ok: true; message: BatchMessage } | { ok: false; reason: string };
export type RunRequestParse = { ok: true; run: RunRequest } | { ok: false; reason: string };

export const MAX_RETRIES_LIMIT = 100;
const ISO_TIME_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
/** Bodies larger than this are not batches (a batch message is a few hundred bytes). */
export const MAX_MESSAGE_BYTES = 16 * 1024;

export function batchIdOf(chain: string, model: string, minBlock: number): string {
  return `${chain}/${model}/${minBlock}`;
}

/** True for a batch id as batchIdOf makes them: a chain, a model and a block number. */
export function isBatchId(value: string): boolean {
  const [chain, model, block, ...rest] = value.split('/');
  return (
    rest.length === 0 &&
    followsNameRule(CHAIN_NAME, chain) &&
    followsNameRule(MODEL_NAME, model) &&
    /^[0-9]{1,16}$/.test(block ?? '') &&
    Number.isSafeInteger(Number(block))
  );
}

/** `<namespace>/<name>`: how logs and markers (`process_name`) name the run. */
export function runLabel(run: RunRef): string {
  return `${run.namespace}/${run.name}`;
}

/** The message for one batch of a run: the one place a run becomes messages. */
export function batchMessageFor(
  run: RunRequest,
  batch: BlockRange,
  enqueuedAt: Date,
  attempt = 1,
): BatchMessage {
  const message: BatchMessage = {
    runId: run.runId,
    batchId: batchIdOf(run.chain, run.model, batch.minBlock),
    model: run.model,
    version: run.version,
    chain: run.chain,
    minBlock: batch.minBlock,
    maxBlock: batch.maxBlock,
    force: run.force,
    maxRetriesPerBatch: run.maxRetriesPerBatch,
    attempt,
    enqueuedAt: enqueuedAt.toISOString(),
  };
  if (run.sinkTopic !== undefined) message.sinkTopic = run.sinkTopic;
  const checked = validateBatchMessage(message);
  if (!checked.ok)
    throw new Error(`run ${runLabel(run.runId)} makes an invalid batch message: ${checked.reason}`);
  return checked.message;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkInteger(value: unknown, field: string, min: number, max: number): string | undefined {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) return `${field} must be an integer`;
  if (value < min || value > max) return `${field} must be between ${min} and ${max}`;
  return undefined;
}

/** Checks a decoded value; the first problem found is the reason. Unknown extra fields are ignored. */
export function validateBatchMessage(value: unknown): BatchMessageParse {
  if (!isRecord(value)) return { ok: false, reason: 'message must be a JSON object' };
  const run = value.runId;
  if (!isRecord(run)) return { ok: false, reason: 'runId must be an object {namespace, name, uid}' };
  const problems = [
    nameRuleProblem(NAMESPACE_NAME, run.namespace),
    nameRuleProblem(RUN_NAME, run.name),
    nameRuleProblem(RUN_UID, run.uid),
    nameRuleProblem(MODEL_NAME, value.model),
    checkInteger(value.version, 'version', 1, 9999),
    nameRuleProblem(CHAIN_NAME, value.chain),
    checkInteger(value.minBlock, 'minBlock', 0, Number.MAX_SAFE_INTEGER),
    checkInteger(value.maxBlock, 'maxBlock', 1, Number.MAX_SAFE_INTEGER),
    typeof value.force === 'boolean' ? undefined : 'force must be a boolean',
    checkInteger(value.maxRetriesPerBatch, 'maxRetriesPerBatch', 0, MAX_RETRIES_LIMIT),
    value.sinkTopic === undefined ? undefined : nameRuleProblem(TOPIC_NAME, value.sinkTopic),
    checkInteger(value.attempt, 'attempt', 1, MAX_RETRIES_LIMIT + 1),
    typeof value.enqueuedAt === 'string' && ISO_TIME_PATTERN.test(value.enqueuedAt)
      ? undefined
      : 'enqueuedAt must be an ISO 8601 time',
    typeof value.batchId === 'string' ? undefined : 'batchId must be a string',
  ];
  const problem = problems.find((p) => p !== undefined);
  if (problem) return { ok: false, reason: problem };
  const message: BatchMessage = {
    runId: { namespace: run.namespace as string, name: run.name as string, uid: run.uid as string },
    batchId: value.batchId as string,
    model: value.model as string,
    version: value.version as number,
    chain: value.chain as string,
    minBlock: value.minBlock as number,
    maxBlock: value.maxBlock as number,
    force: value.force as boolean,
    maxRetriesPerBatch: value.maxRetriesPerBatch as number,
    attempt: value.attempt as number,
    enqueuedAt: value.enqueuedAt as string,
  };
  if (value.sinkTopic !== undefined) message.sinkTopic = value.sinkTopic as string;
  if (message.maxBlock <= message.minBlock)
    return { ok: false, reason: 'maxBlock must be greater than minBlock' };
  if (Number.isNaN(Date.parse(message.enqueuedAt)))
    return { ok: false, reason: 'enqueuedAt is not a valid time' };
  const expectedId = batchIdOf(message.chain, message.model, message.minBlock);
  if (message.batchId !== expectedId) {
    return {
      ok: false,
      reason: `batchId must be ${JSON.stringify(expectedId)} (<chain>/<model>/<minBlock>)`,
    };
  }
  return { ok: true, message };
}

/**
 * Checks a run request (what a Job's pods get in WORKER_RUN): the run's own fields follow the
 * same rules as its messages, and the range is a non-empty half-open block range.
 */
export function validateRunRequest(value: unknown): RunRequestParse {
  if (!isRecord(value)) return { ok: false, reason: 'run must be a JSON object' };
  const range = value.range;
  if (!isRecord(range)) return { ok: false, reason: 'range must be an object {minBlock, maxBlock}' };
  const probe = validateBatchMessage({
    ...value,
    batchId: batchIdOf(String(value.chain), String(value.model), range.minBlock as number),
    minBlock: range.minBlock,
    maxBlock: range.maxBlock,
    attempt: 1,
    enqueuedAt: new Date(0).toISOString(),
  });
  if (!probe.ok) return { ok: false, reason: probe.reason.replace(/^(min|max)Block/, 'range.$1Block') };
  const { runId, model, version, chain, minBlock, maxBlock, force, maxRetriesPerBatch, sinkTopic } =
    probe.message;
  const run: RunRequest = {
    runId,
    model,
    version,
    chain,
    range: { minBlock, maxBlock },
    force,
    maxRetriesPerBatch,
  };
  if (sinkTopic !== undefined) run.sinkTopic = sinkTopic;
  return { ok: true, run };
}

/** Decodes and validates a message body as it comes off the queue. Never throws. */
export function parseBatchMessage(body: Buffer | string): BatchMessageParse {
  const size = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  if (size > MAX_MESSAGE_BYTES)
    return { ok: false, reason: `message is ${size} bytes, more than ${MAX_MESSAGE_BYTES}` };
  let decoded: unknown;
  try {
    decoded = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  } catch (error) {
    return { ok: false, reason: `message is not JSON: ${(error as Error).message}` };
  }
  return validateBatchMessage(decoded);
}

export function encodeBatchMessage(message: BatchMessage): Buffer {
  const checked = validateBatchMessage(message);
  if (!checked.ok) throw new Error(`refusing to encode an invalid batch message: ${checked.reason}`);
  return Buffer.from(JSON.stringify(checked.message));
}
