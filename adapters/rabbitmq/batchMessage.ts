// The wire format of one batch of work, as the operator enqueues it and the worker receives it
// (from a queue, or from the batch list of an Indexed Job). Validated on receipt: a message that
// fails here is dead-lettered with the reason and never reaches a model.
import { CHAIN_NAME, MODEL_NAME } from '../../dataplane/validNames.ts';

/** The ModelRun that asked for the batch. `uid` tells apart two runs that reused a name. */
export interface RunRef {
  namespace: string;
  name: string;
  uid: string;
}

export interface BatchMessage {
  runId: RunRef;
  /** Deterministic: `<chain>/<model>/<minBlock>`, the same on every delivery and every run. */
  batchId: string;
  model: string;
  /** The model version the run asked for; the worker refuses a version it does not have. */
  version: number;
  chain: string;
  /** First block of the batch, inclusive. */
  minBlock: number;
  /** End of the batch, exclusive (the marker convention): blocks minBlock … maxBlock - 1. */
  maxBlock: number;
  /** Reprocess even when output markers say the batch is complete. */
  force: boolean;
  /** How many times the batch may be tried again after its first failure. */
  maxRetries: number;
  /** This delivery's attempt, from 1. */
  attempt: number;
  /** ISO 8601 time the message became ready on its work queue (for time-in-queue). */
  enqueuedAt: string;
}

export type BatchMessageParse = { ok: true; message: BatchMessage } | { ok: false; reason: string };

export const MAX_RETRIES_LIMIT = 100;
const NAMESPACE_PATTERN = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const RUN_NAME_PATTERN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const UID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/;
const ISO_TIME_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
/** Bodies larger than this are not batches (a batch message is a few hundred bytes). */
export const MAX_MESSAGE_BYTES = 16 * 1024;

export function batchIdOf(chain: string, model: string, minBlock: number): string {
  return `${chain}/${model}/${minBlock}`;
}

/** `<namespace>/<name>`: how logs and markers (`process_name`) name the run. */
export function runLabel(run: RunRef): string {
  return `${run.namespace}/${run.name}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkString(value: unknown, field: string, pattern: RegExp): string | undefined {
  if (typeof value !== 'string') return `${field} must be a string`;
  if (!pattern.test(value))
    return `${field} ${JSON.stringify(value.slice(0, 80))} does not match ${pattern.source}`;
  return undefined;
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
    checkString(run.namespace, 'runId.namespace', NAMESPACE_PATTERN),
    checkString(run.name, 'runId.name', RUN_NAME_PATTERN),
    checkString(run.uid, 'runId.uid', UID_PATTERN),
    checkString(value.model, 'model', MODEL_NAME),
    checkInteger(value.version, 'version', 1, 1_000_000),
    checkString(value.chain, 'chain', CHAIN_NAME),
    checkInteger(value.minBlock, 'minBlock', 0, Number.MAX_SAFE_INTEGER),
    checkInteger(value.maxBlock, 'maxBlock', 1, Number.MAX_SAFE_INTEGER),
    typeof value.force === 'boolean' ? undefined : 'force must be a boolean',
    checkInteger(value.maxRetries, 'maxRetries', 0, MAX_RETRIES_LIMIT),
    checkInteger(value.attempt, 'attempt', 1, MAX_RETRIES_LIMIT + 1),
    checkString(value.enqueuedAt, 'enqueuedAt', ISO_TIME_PATTERN),
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
    maxRetries: value.maxRetries as number,
    attempt: value.attempt as number,
    enqueuedAt: value.enqueuedAt as string,
  };
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
