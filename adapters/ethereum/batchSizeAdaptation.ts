// Pure: does an endpoint's answer to a batch say "fewer calls per request", and how many then.
// Providers cap batches (HTTP 413, geth's "batch too large", erigon's "batch limit 100
// exceeded", jsonrpsee's "The batch request was too large") or refuse them outright
// ("Batched requests are not supported"); both are answers about the request's shape, so the
// client resends the same calls in smaller batches instead of failing or retrying as is.

export type BatchRejection = 'too-large' | 'batching-refused';

/** What came back for a request of more than one call: the HTTP status, or an error object. */
export interface BatchAnswer {
  httpStatus?: number;
  /** A JSON-RPC error's code, when the answer carried one. */
  code?: number;
  /** The error's message, or the HTTP body. */
  message: string;
  /** A single error object, not tied to a call (id null), answering the whole batch. */
  untied?: boolean;
}

const BATCH_TOO_LARGE =
  /batch.{0,40}(too (large|big|long|many)|limit|exceed|maximum|max\b)|too many (requests|calls) in (a |the |one )?batch|response too large/i;
const BATCHING_REFUSED =
  /batch(ed|es|ing)?( json-?rpc)?( requests?| calls?)? (is |are )?(not supported|unsupported|disabled|not (allowed|permitted|available|enabled))/i;
/** A contract's own revert message may say anything, "batch limit" included. */
const CONTRACT_ANSWER = /revert/i;

export function batchRejection(answer: BatchAnswer): BatchRejection | undefined {
  if (answer.code === 3 || CONTRACT_ANSWER.test(answer.message)) return undefined;
  if (BATCHING_REFUSED.test(answer.message)) return 'batching-refused';
  if (answer.httpStatus === 413 || BATCH_TOO_LARGE.test(answer.message)) return 'too-large';
  // Servers that only parse single objects answer an array with one "invalid request" or
  // "parse error" not tied to any call: single calls are what they understand.
  if (answer.untied && (answer.code === -32600 || answer.code === -32700)) return 'batching-refused';
  return undefined;
}

/**
 * The batch size to use from now on after a batch of `rejectedSize` calls was rejected:
 * half of it (a cap of 50 is found from 100 in one step, of 10 in four), or single calls when
 * batching is refused. Never more than `current`: other requests may have lowered it already.
 */
export function nextBatchSize(current: number, rejectedSize: number, rejection: BatchRejection): number {
  if (rejection === 'batching-refused') return 1;
  return Math.max(1, Math.min(current, Math.floor(rejectedSize / 2)));
}
