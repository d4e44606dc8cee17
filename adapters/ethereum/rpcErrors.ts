// Typed failures of the JSON-RPC adapter. Callers decide on `retryable` and show
// `message`; nothing downstream ever sees an `undefined` where a block was expected.

export type RpcFailureKind =
  | 'transport' // connection refused/reset, DNS, timeout: retryable
  | 'http' // a non-2xx answer; 429 and 5xx are retryable
  | 'rpc' // a JSON-RPC error object; internal errors and rate limits are retryable
  | 'invalid-response'; // the node answered something that is not what the protocol promises

export class RpcError extends Error {
  readonly kind: RpcFailureKind;
  readonly method: string;
  readonly retryable: boolean;
  /** HTTP status for `http`, JSON-RPC error code for `rpc`. */
  readonly code: number | undefined;
  /** What went wrong in the node's own words, without method, endpoint or remedy: for classifying. */
  readonly detail: string;
  /** Attempts made before giving up; set by the client when it stops retrying. */
  attempts = 1;

  /** `endpoint` (scheme and host) and `remedy` (the setting to change) go into the message. */
  constructor(
    kind: RpcFailureKind,
    method: string,
    detail: string,
    options: { retryable: boolean; code?: number; cause?: unknown; endpoint?: string; remedy?: string },
  ) {
    const where = options.endpoint ? ` (${options.endpoint})` : '';
    const remedy = options.remedy ? `; ${options.remedy}` : '';
    super(`${method}: ${detail}${where}${remedy}`, { cause: options.cause });
    this.name = 'RpcError';
    this.kind = kind;
    this.method = method;
    this.retryable = options.retryable;
    this.code = options.code;
    this.detail = detail;
  }
}

/** JSON-RPC error codes worth another try: internal error, and the de-facto "limit exceeded". */
const RETRYABLE_RPC_CODES = new Set([-32603, -32005]);

export function isRetryableHttpStatus(status: number): boolean {
  return status === 429 || status === 408 || status >= 500;
}

/**
 * Providers also use -32005 for "your query is too big" (more than 10,000 logs, a block
 * range over their cap). Asking again cannot help; the caller must ask for less.
 */
const QUERY_TOO_LARGE =
  /returned more than|too many results|response size|block range|range (is )?too (large|wide)|exceed.*(results|range|logs)/i;

export function isRetryableRpcError(code: number, message: string): boolean {
  return RETRYABLE_RPC_CODES.has(code) && !QUERY_TOO_LARGE.test(message);
}

/** A response value that fails validation: always a clear, non-retryable error. */
export function invalidResponse(method: string, what: string, value: unknown): RpcError {
  return new RpcError('invalid-response', method, `invalid response: ${what} (got ${preview(value)})`, {
    retryable: false,
  });
}

/** At most ~120 characters of whatever arrived, for error messages and logs. */
export function preview(value: unknown): string {
  let text: string;
  try {
    text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/**
 * True when an eth_call failed because the contract's code failed (a revert, a bad
 * opcode, out of gas): an answer about the contract. Anything else (missing state,
 * unknown block, rate limits) is about the node and must not be taken as an answer.
 */
export function isExecutionFailure(error: RpcError): boolean {
  if (error.kind !== 'rpc') return false;
  if (error.code === 3) return true; // geth and anvil: reverted with data
  return /execution reverted|revert|invalid opcode|out of gas|stack underflow|invalid jump/i.test(
    error.message,
  );
}

const METHOD_MISSING =
  /method .{0,40}(not found|not supported|unsupported|does not exist|not available|is not (enabled|allowed|whitelisted))|(unsupported|unknown) method/i;

/** The endpoint does not serve this method at all (JSON-RPC -32601, or a provider saying so). */
export function isMethodMissing(error: RpcError): boolean {
  if (error.kind === 'rpc') return error.code === -32601 || METHOD_MISSING.test(error.detail);
  return error.kind === 'http' && !error.retryable && METHOD_MISSING.test(error.detail);
}
