// JSON-RPC over HTTP with the manners a shared node expects: a request rate limit, a cap on
// requests in flight, timeouts, and retries with jittered exponential backoff on failures
// that are worth retrying. A batch the endpoint refuses as too large is resent in smaller
// batches, and the smaller size is kept for the client's lifetime. Results come back as
// `unknown`: validating them is the caller's job (see rpcShapes.ts), so garbage becomes a
// typed error instead of a crash later.
import type { Logger } from 'pino';
import {
  type BatchAnswer,
  type BatchRejection,
  batchRejection,
  nextBatchSize,
} from './batchSizeAdaptation.ts';
import { backoffDelayMs, defaultBackoffPolicy, retryAfterMs, type BackoffPolicy } from './retryBackoff.ts';
import { RequestRateLimiter, systemClock, type RateLimiterClock } from './requestRateLimiter.ts';
import { RequestSlots } from './requestSlots.ts';
import { describeSetting } from '../../dataplane/rpcClientSettings.ts';
import {
  RpcError,
  type RpcFailureKind,
  isRetryableHttpStatus,
  isRetryableRpcError,
  preview,
} from './rpcErrors.ts';
import { remedyFor } from './rpcRemedies.ts';
import { type BodyToFileOutcome, HttpBodyPoster } from './httpBodyToFile.ts';

export interface JsonRpcCall {
  method: string;
  params: readonly unknown[];
}

/** A call with the id the caller chose, for `postBatchToFile`. */
export interface IdentifiedCall extends JsonRpcCall {
  id: number;
}

export interface JsonRpcClientOptions {
  url: string;
  /** JSON-RPC calls per second (each call of a batch counts); 0 = unlimited. */
  requestsPerSecond?: number;
  /** Calls that may go out at once after an idle period; defaults to one second's worth. */
  burst?: number;
  /** Per HTTP request. */
  timeoutMs?: number;
  /** Attempts per call, the first included. */
  maxAttempts?: number;
  backoff?: BackoffPolicy;
  /** Calls per HTTP request in `requestBatch`, at first; lowered when the endpoint refuses a batch. */
  maxBatchSize?: number;
  /** HTTP requests this client keeps in flight at once, across all its callers. */
  maxConcurrentRequests?: number;
  logger?: Pick<Logger, 'warn'>;
  clock?: RateLimiterClock;
  random?: () => number;
  fetch?: typeof globalThis.fetch;
}

export type SettledCall = { ok: true; result: unknown } | { ok: false; error: RpcError };

interface RpcResponseObject {
  id: unknown;
  result?: unknown;
  error?: unknown;
}

export const defaultJsonRpcOptions = {
  requestsPerSecond: 0,
  timeoutMs: 30_000,
  maxAttempts: 5,
  maxBatchSize: 100,
  maxConcurrentRequests: 4,
} as const;

/** Scheme and host only: paths and user info of provider URLs often carry API keys. */
export function redactedEndpoint(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}`;
  } catch {
    return '<invalid url>';
  }
}

export class JsonRpcClient {
  readonly endpoint: string;
  readonly #url: string;
  readonly #timeoutMs: number;
  readonly #maxAttempts: number;
  readonly #backoff: BackoffPolicy;
  /** Only ever lowered: the endpoint said larger batches are refused. */
  #batchSize: number;
  readonly #maxConcurrentRequests: number;
  readonly #slots: RequestSlots;
  readonly #limiter: RequestRateLimiter;
  readonly #logger: Pick<Logger, 'warn'> | undefined;
  readonly #clock: RateLimiterClock;
  readonly #random: () => number;
  readonly #fetch: typeof globalThis.fetch;
  readonly #poster: HttpBodyPoster;
  #nextId = 1;

  constructor(options: JsonRpcClientOptions) {
    const url = new URL(options.url); // throws early on a malformed endpoint
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new Error(`JSON-RPC endpoint must be http(s), got ${url.protocol}`);
    }
    this.#url = options.url;
    this.endpoint = redactedEndpoint(options.url);
    this.#timeoutMs = options.timeoutMs ?? defaultJsonRpcOptions.timeoutMs;
    this.#maxAttempts = Math.max(1, options.maxAttempts ?? defaultJsonRpcOptions.maxAttempts);
    this.#backoff = options.backoff ?? defaultBackoffPolicy;
    this.#batchSize = Math.max(1, options.maxBatchSize ?? defaultJsonRpcOptions.maxBatchSize);
    this.#maxConcurrentRequests = Math.max(
      1,
      options.maxConcurrentRequests ?? defaultJsonRpcOptions.maxConcurrentRequests,
    );
    this.#slots = new RequestSlots(this.#maxConcurrentRequests);
    this.#clock = options.clock ?? systemClock;
    this.#limiter = new RequestRateLimiter(
      options.requestsPerSecond ?? defaultJsonRpcOptions.requestsPerSecond,
      options.burst,
      this.#clock,
    );
    this.#logger = options.logger;
    this.#random = options.random ?? Math.random;
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#poster = new HttpBodyPoster(options.url, this.#maxConcurrentRequests);
  }

  /** Calls per HTTP request now: the configured size, or less once the endpoint refused it. */
  get batchSize(): number {
    return this.#batchSize;
  }

  /** HTTP requests the client keeps in flight at most. */
  get maxConcurrentRequests(): number {
    return this.#maxConcurrentRequests;
  }

  /** One call; the raw `result`, to be validated by the caller. */
  async request(method: string, params: readonly unknown[], signal?: AbortSignal): Promise<unknown> {
    const [result] = await this.requestBatch([{ method, params }], signal);
    return result;
  }

  /**
   * Many calls, sent `batchSize` per HTTP request; results in call order. Calls that
   * failed in a retryable way are retried on their own, the ones that succeeded are kept.
   */
  async requestBatch(calls: readonly JsonRpcCall[], signal?: AbortSignal): Promise<unknown[]> {
    const settled = await this.#requestAll(calls, false, signal);
    return settled.map((outcome) => (outcome as { ok: true; result: unknown }).result);
  }

  /**
   * Like `requestBatch`, but a call the node refused with a JSON-RPC error that is not
   * worth retrying (a reverted `eth_call`, say) comes back as `{ ok: false }` instead of
   * failing the others. Transport, HTTP and garbage failures still throw.
   */
  async requestBatchSettled(calls: readonly JsonRpcCall[], signal?: AbortSignal): Promise<SettledCall[]> {
    return this.#requestAll(calls, true, signal);
  }

  /**
   * Sends `calls` (at most `batchSize`, with the caller's ids) as one request, under the same
   * rate limit and in-flight cap as every other, and writes the answer to `file` unparsed:
   * for callers that let DuckDB read the JSON. A single call goes as an object, several as a
   * batch array. `{ ok: false }` on any failure: the caller then asks through `requestBatch`,
   * where retries, Retry-After and batch-size adaptation live, so nothing here retries.
   */
  async postBatchToFile(
    calls: readonly IdentifiedCall[],
    file: string,
    signal?: AbortSignal,
  ): Promise<BodyToFileOutcome> {
    if (calls.length === 0) throw new RangeError('postBatchToFile needs at least one call');
    const release = await this.#slots.acquire(signal);
    try {
      // The batch size may have been lowered while this request waited for its slot.
      if (calls.length > this.#batchSize) return { ok: false, reason: `more than ${this.#batchSize} calls` };
      await this.#limiter.acquire(calls.length, signal);
      const payload = calls.map((call) => ({
        jsonrpc: '2.0',
        id: call.id,
        method: call.method,
        params: call.params,
      }));
      const body = JSON.stringify(payload.length === 1 ? payload[0] : payload);
      return await this.#poster.post(body, file, this.#timeoutMs, signal);
    } finally {
      release();
    }
  }

  async #requestAll(
    calls: readonly JsonRpcCall[],
    settle: boolean,
    signal?: AbortSignal,
  ): Promise<SettledCall[]> {
    const results: SettledCall[] = new Array(calls.length);
    // A few HTTP requests in flight hide the node's latency; the rate limit still applies.
    // Chunks are cut when taken, so a batch size lowered meanwhile applies at once.
    let next = 0;
    let failure: unknown;
    const worker = async (): Promise<void> => {
      while (next < calls.length && failure === undefined) {
        const start = next;
        const chunk = calls.slice(start, start + this.#batchSize);
        next += chunk.length;
        try {
          const chunkResults = await this.#requestChunkWithRetries(chunk, settle, signal);
          for (let i = 0; i < chunkResults.length; i++) results[start + i] = chunkResults[i]!;
        } catch (error) {
          failure ??= error;
        }
      }
    };
    await Promise.all(Array.from({ length: this.#maxConcurrentRequests }, worker));
    if (failure !== undefined) throw failure;
    return results;
  }

  async #requestChunkWithRetries(
    calls: readonly JsonRpcCall[],
    settle: boolean,
    signal?: AbortSignal,
  ): Promise<SettledCall[]> {
    const results: SettledCall[] = new Array(calls.length);
    let pending = calls.map((_, index) => index);
    for (let attempt = 1; ; attempt++) {
      signal?.throwIfAborted();
      const sent = pending.map((index) => calls[index]!);
      const outcome = await this.#send(sent, signal);
      if (outcome.kind === 'batch-rejected') {
        // An answer about the request's size, not a failure: the same calls in smaller batches.
        if (outcome.rejection) this.#lowerBatchSize(sent.length, outcome.rejection, outcome.answer);
        const smaller = await this.#requestAll(sent, settle, signal);
        smaller.forEach((result, i) => (results[pending[i]!] = result));
        return results;
      }
      const stillPending: number[] = [];
      let lastError: RpcError | undefined;
      let serverDelay: number | undefined;
      for (let i = 0; i < pending.length; i++) {
        const item = outcome.kind === 'failed' ? outcome.failure : outcome.items[i]!;
        if (item.kind === 'ok') {
          results[pending[i]!] = { ok: true, result: item.result };
          continue;
        }
        if (settle && item.error.kind === 'rpc' && !item.error.retryable) {
          results[pending[i]!] = { ok: false, error: item.error };
          continue;
        }
        if (!item.error.retryable || attempt >= this.#maxAttempts) {
          item.error.attempts = attempt;
          throw item.error;
        }
        stillPending.push(pending[i]!);
        lastError = item.error;
        serverDelay = item.retryAfterMs ?? serverDelay;
      }
      if (stillPending.length === 0) return results;
      pending = stillPending;
      const delay = serverDelay ?? backoffDelayMs(this.#backoff, attempt, this.#random);
      this.#logger?.warn(
        {
          endpoint: this.endpoint,
          method: lastError?.method,
          kind: lastError?.kind,
          code: lastError?.code,
          attempt,
          delayMs: delay,
          pendingCalls: pending.length,
          err: lastError?.message,
        },
        'json-rpc call failed, retrying',
      );
      await this.#clock.sleep(delay, signal);
    }
  }

  #lowerBatchSize(rejectedSize: number, rejection: BatchRejection, answer: string): void {
    const lowered = nextBatchSize(this.#batchSize, rejectedSize, rejection);
    if (lowered >= this.#batchSize) return;
    this.#logger?.warn(
      {
        endpoint: this.endpoint,
        rejection,
        rejectedSize,
        batchSize: lowered,
        answer: preview(answer),
        remedy: `set ${describeSetting('batchSize')} to ${lowered} or less to skip this`,
      },
      'json-rpc batch refused as too large, sending smaller batches from now on',
    );
    this.#batchSize = lowered;
  }

  /** An error that names the endpoint (scheme and host) and, when one helps, the remedy. */
  #error(
    kind: RpcFailureKind,
    method: string,
    detail: string,
    options: { retryable: boolean; code?: number; cause?: unknown },
  ): RpcError {
    const remedy = remedyFor({ kind, code: options.code, detail });
    return new RpcError(kind, method, detail, { ...options, endpoint: this.endpoint, remedy });
  }

  async #send(calls: readonly JsonRpcCall[], signal?: AbortSignal): Promise<SendOutcome> {
    const release = await this.#slots.acquire(signal);
    try {
      // The batch size may have been lowered while this request waited for its slot.
      if (calls.length > this.#batchSize) return { kind: 'batch-rejected', rejection: undefined, answer: '' };
      return await this.#post(calls, signal);
    } finally {
      release();
    }
  }

  async #post(calls: readonly JsonRpcCall[], signal?: AbortSignal): Promise<SendOutcome> {
    const method = calls.length === 1 ? calls[0]!.method : `batch(${calls[0]!.method} x${calls.length})`;
    await this.#limiter.acquire(calls.length, signal);
    const firstId = this.#nextId;
    this.#nextId += calls.length;
    const payload = calls.map((call, i) => ({
      jsonrpc: '2.0',
      id: firstId + i,
      method: call.method,
      params: call.params,
    }));
    const body = JSON.stringify(calls.length === 1 ? payload[0] : payload);

    let status: number;
    let text: string;
    let retryAfter: string | null;
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    try {
      const response = await this.#fetch(this.#url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body,
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      status = response.status;
      retryAfter = response.headers.get('retry-after');
      text = await response.text();
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      const reason = timeout.aborted
        ? `timed out after ${this.#timeoutMs} ms`
        : describeTransportError(error);
      return failed(this.#error('transport', method, reason, { retryable: true, cause: error }));
    }

    if (status < 200 || status > 299) {
      const rejection = calls.length > 1 ? batchRejection({ httpStatus: status, message: text }) : undefined;
      if (rejection) return { kind: 'batch-rejected', rejection, answer: `HTTP ${status}: ${text}` };
      const error = this.#error('http', method, `HTTP ${status}: ${preview(text)}`, {
        retryable: isRetryableHttpStatus(status),
        code: status,
      });
      return failed(error, retryAfterMs(retryAfter, Date.now(), this.#backoff));
    }

    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return failed(
        this.#error('invalid-response', method, `response is not JSON: ${preview(text)}`, {
          retryable: false,
        }),
      );
    }
    if (calls.length > 1) {
      const refusal = batchRefusalIn(parsed);
      if (refusal) return { kind: 'batch-rejected', rejection: refusal.rejection, answer: refusal.answer };
    }
    return this.#matchResponses(calls, firstId, parsed, method);
  }

  #matchResponses(
    calls: readonly JsonRpcCall[],
    firstId: number,
    parsed: unknown,
    method: string,
  ): SendOutcome {
    // A node may answer a whole batch with one error object (e.g. "batch too large").
    if (!Array.isArray(parsed)) {
      if (!isResponseObject(parsed)) {
        return failed(
          this.#error('invalid-response', method, `not a JSON-RPC response: ${preview(parsed)}`, {
            retryable: false,
          }),
        );
      }
      // JSON-RPC 2.0 answers with id null when it cannot tie an error to a call: that error
      // is about the whole request, and its code (not the id) says whether to retry.
      const untiedError = parsed.error !== undefined && parsed.id === null;
      if (calls.length === 1 || untiedError) {
        const item = this.#toItem(calls[0]!.method, parsed, untiedError ? null : firstId);
        if (calls.length === 1) return { kind: 'items', items: [item] };
        if (item.kind === 'error') return failed(item.error);
      }
      return failed(
        this.#error(
          'invalid-response',
          method,
          `expected a batch of ${calls.length} responses: ${preview(parsed)}`,
          {
            retryable: false,
          },
        ),
      );
    }
    const byId = new Map<number, RpcResponseObject>();
    for (const entry of parsed) {
      if (isResponseObject(entry) && typeof entry.id === 'number') byId.set(entry.id, entry);
    }
    const items = calls.map((call, i): CallOutcome => {
      const entry = byId.get(firstId + i);
      if (!entry) {
        return {
          kind: 'error',
          error: this.#error('invalid-response', call.method, `batch response lacks id ${firstId + i}`, {
            retryable: false,
          }),
        };
      }
      return this.#toItem(call.method, entry, firstId + i);
    });
    return { kind: 'items', items };
  }

  #toItem(method: string, entry: RpcResponseObject, expectedId: number | null): CallOutcome {
    if (expectedId !== null && entry.id !== expectedId) {
      return {
        kind: 'error',
        error: this.#error(
          'invalid-response',
          method,
          `response id ${preview(entry.id)} != request id ${expectedId}`,
          {
            retryable: false,
          },
        ),
      };
    }
    if (entry.error !== undefined && entry.error !== null) {
      const rpcError = entry.error as { code?: unknown; message?: unknown };
      if (typeof rpcError !== 'object' || typeof rpcError.code !== 'number') {
        return {
          kind: 'error',
          error: this.#error('invalid-response', method, `malformed error object: ${preview(entry.error)}`, {
            retryable: false,
          }),
        };
      }
      const message = typeof rpcError.message === 'string' ? rpcError.message : preview(rpcError.message);
      return {
        kind: 'error',
        error: this.#error('rpc', method, `JSON-RPC error ${rpcError.code}: ${message}`, {
          retryable: isRetryableRpcError(rpcError.code, message),
          code: rpcError.code,
        }),
      };
    }
    if (!('result' in entry)) {
      return {
        kind: 'error',
        error: this.#error('invalid-response', method, `response has neither result nor error`, {
          retryable: false,
        }),
      };
    }
    return { kind: 'ok', result: entry.result };
  }
}

type CallFailure = { kind: 'error'; error: RpcError; retryAfterMs?: number };
type CallOutcome = { kind: 'ok'; result: unknown } | CallFailure;
/**
 * One outcome per call, one failure of the whole HTTP request, or a batch to send again in
 * smaller pieces: refused for its size (`rejection`), or not sent because the size was
 * lowered while it waited (no `rejection`).
 */
type SendOutcome =
  | { kind: 'items'; items: CallOutcome[] }
  | { kind: 'failed'; failure: CallFailure }
  | { kind: 'batch-rejected'; rejection: BatchRejection | undefined; answer: string };

function failed(error: RpcError, retryAfterMs?: number): SendOutcome {
  const failure: CallFailure =
    retryAfterMs === undefined ? { kind: 'error', error } : { kind: 'error', error, retryAfterMs };
  return { kind: 'failed', failure };
}

/** The error in a batch's answer that refuses the batch itself (geth ties it to the first call). */
function batchRefusalIn(parsed: unknown): { rejection: BatchRejection; answer: string } | undefined {
  const entries = Array.isArray(parsed) ? parsed : [parsed];
  for (const entry of entries) {
    if (!isResponseObject(entry) || typeof entry.error !== 'object' || entry.error === null) continue;
    const { code, message } = entry.error as { code?: unknown; message?: unknown };
    const answer: BatchAnswer = {
      code: typeof code === 'number' ? code : undefined,
      message: typeof message === 'string' ? message : '',
      untied: !Array.isArray(parsed) && entry.id === null,
    };
    const rejection = batchRejection(answer);
    if (rejection) return { rejection, answer: `${String(code)}: ${answer.message}` };
  }
  return undefined;
}

function isResponseObject(value: unknown): value is RpcResponseObject {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    ('result' in value || 'error' in value)
  );
}

function describeTransportError(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  if (cause && typeof cause.code === 'string') return `transport error ${cause.code}`;
  if (cause && typeof cause.message === 'string') return `transport error: ${cause.message}`;
  return `transport error: ${error instanceof Error ? error.message : String(error)}`;
}
