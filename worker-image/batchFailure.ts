// Why a batch attempt failed, in the fixed vocabulary of the metrics and the dead-letter
// headers, and whether another attempt can help. Errors from the backing services are tagged
// with their service where the worker hands the service to the model (tagFailures), so a
// ClickHouse outage reads as `clickhouse`, not as whatever the model made of it.
import { isRetryableReason, type FailureReason } from '../contract/failureReasons.ts';

export class BatchFailure extends Error {
  override name = 'BatchFailure';
  readonly reason: FailureReason;
  readonly retryable: boolean;

  constructor(reason: FailureReason, message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.reason = reason;
    // Whether another attempt can help is the reason's, decided once (contract/failureReasons.ts).
    this.retryable = isRetryableReason(reason);
  }
}

export interface FailureClass {
  reason: FailureReason;
  retryable: boolean;
  /** One line for logs, headers and the run's failed-batch list. */
  message: string;
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

/** The first BatchFailure on the error's cause chain (a model may wrap what it was thrown). */
function findBatchFailure(error: unknown): BatchFailure | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current !== undefined && current !== null; depth += 1) {
    if (current instanceof BatchFailure) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Whether an error named `name` is on the cause chain (by name: no import of every package's classes). */
function hasErrorNamed(error: unknown, name: string): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current instanceof Error; depth += 1) {
    if (current.name === name) return true;
    current = current.cause;
  }
  return false;
}

/**
 * Tagged failures keep their tag. A batch whose inputs are not complete yet is retried. An RPC failure is retryable at the batch level even when
 * the client gave up on it (a node that answers garbage now may answer properly in a minute;
 * maxRetriesPerBatch bounds it). Anything else is a model failure, retried the same way.
 */
export function classifyFailure(error: unknown): FailureClass {
  const tagged = findBatchFailure(error);
  if (tagged) return { reason: tagged.reason, retryable: tagged.retryable, message: messageOf(error) };
  // Blocks that are not one of the chain's batches can never run: a malformed request.
  if (hasErrorNamed(error, 'BatchAlignmentError')) {
    return { reason: 'malformed', retryable: isRetryableReason('malformed'), message: messageOf(error) };
  }
  // The batch's inputs are not committed yet: the ingestion of its blocks will catch up.
  if (hasErrorNamed(error, 'BatchNotReadyError')) {
    return {
      reason: 'notReady',
      retryable: isRetryableReason('notReady'),
      message: `not ready: ${messageOf(error)}`,
    };
  }
  if (hasErrorNamed(error, 'RpcError'))
    return { reason: 'rpc', retryable: isRetryableReason('rpc'), message: `rpc: ${messageOf(error)}` };
  return { reason: 'model', retryable: isRetryableReason('model'), message: messageOf(error) };
}

/**
 * Wraps every method of a service so a rejected promise (or a throw) becomes a retryable
 * BatchFailure tagged with `reason`, keeping the original as `cause`.
 */
export function tagFailures<T extends object>(service: T, reason: FailureReason): T {
  return new Proxy(service, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const wrap = (error: unknown): never => {
          if (findBatchFailure(error)) throw error;
          throw new BatchFailure(reason, `${reason}: ${messageOf(error)}`, { cause: error });
        };
        try {
          const result: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
          return result instanceof Promise ? result.catch(wrap) : result;
        } catch (error) {
          return wrap(error);
        }
      };
    },
  });
}
