// Pure: how eth_getLogs is asked for a block range, and what to do when the endpoint refuses.
// Providers cap a query by its block range (a fixed limit: worth remembering for the run) or
// by its result count (a property of the blocks asked for: split this query only). A single
// block over the result cap cannot be split; its receipts carry the same logs.
import type { RpcError } from './rpcErrors.ts';

export interface BlockSpan {
  fromBlock: number;
  toBlock: number;
}

/** Why a log query was refused; `other` is a JSON-RPC error that says neither. */
export type LogQueryRefusal = 'range' | 'results' | 'other';

const RANGE_TOO_WIDE =
  /block range|range (is )?too (large|wide|big)|range.{0,40}exceed|exceed.{0,40}range|limited to .{0,20}range|max(imum)? range|blocks? range/i;
const TOO_MANY_RESULTS =
  /returned more than|too many (results|logs)|response size|response (is )?too (large|big)|exceed.{0,40}(results|logs)|(results|logs).{0,40}exceed|query timeout|timed? ?out/i;

/**
 * Only a JSON-RPC error (or an HTTP answer that says "too large") refuses the query itself;
 * transport failures and garbage are the client's to retry or report.
 */
export function logQueryRefusal(error: RpcError): LogQueryRefusal | undefined {
  if (error.kind !== 'rpc' && !(error.kind === 'http' && !error.retryable)) return undefined;
  if (TOO_MANY_RESULTS.test(error.detail)) return 'results';
  if (RANGE_TOO_WIDE.test(error.detail)) return 'range';
  return error.kind === 'rpc' ? 'other' : undefined;
}

/** The next query of [fromBlock, toBlock]: at most `maxRange` blocks from its start (0 = all). */
export function nextLogQuerySpan(fromBlock: number, toBlock: number, maxRange: number): BlockSpan {
  if (toBlock < fromBlock) throw new RangeError(`empty log range ${fromBlock}-${toBlock}`);
  return { fromBlock, toBlock: maxRange > 0 ? Math.min(toBlock, fromBlock + maxRange - 1) : toBlock };
}

export type LogQueryDecision =
  /** Ask for the two halves instead; `maxRange` is the range to use for the rest of the run. */
  | { kind: 'split'; halves: [BlockSpan, BlockSpan]; maxRange: number }
  /** One block over the result cap: read its receipts. */
  | { kind: 'receipts'; block: number }
  | { kind: 'fail' };

/** What to do after the endpoint refused `span`, given the range in use (0 = unlimited). */
export function onLogQueryRefused(
  span: BlockSpan,
  refusal: LogQueryRefusal,
  maxRange: number,
): LogQueryDecision {
  const width = span.toBlock - span.fromBlock + 1;
  if (width === 1)
    return refusal === 'results' ? { kind: 'receipts', block: span.fromBlock } : { kind: 'fail' };
  const middle = Math.floor((span.fromBlock + span.toBlock) / 2);
  // The wider half: refused at `width`, the cap is below it, so this one may pass.
  const learned = middle - span.fromBlock + 1;
  return {
    kind: 'split',
    halves: [
      { fromBlock: span.fromBlock, toBlock: middle },
      { fromBlock: middle + 1, toBlock: span.toBlock },
    ],
    maxRange: refusal === 'range' ? (maxRange > 0 ? Math.min(maxRange, learned) : learned) : maxRange,
  };
}
