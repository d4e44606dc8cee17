// Pure: for a failure the client gave up on, which setting to change. People read these at
// 3 a.m. in a dead-letter reason; "HTTP 429" alone does not say that the fix is our rate.
import { describeSetting } from '../../dataplane/rpcClientSettings.ts';
import type { RpcFailureKind } from './rpcErrors.ts';

export interface FailureFacts {
  kind: RpcFailureKind;
  /** HTTP status for `http`, JSON-RPC code for `rpc`. */
  code?: number;
  /** The failure in the node's words (RpcError.detail). */
  detail: string;
}

const RATE_LIMITED = /rate.?limit|too many requests|request limit|capacity|throughput|compute units|quota/i;
const BATCH_MISHANDLED = /batch response lacks|expected a batch of/;

export function remedyFor(failure: FailureFacts): string | undefined {
  const { kind, code, detail } = failure;
  if ((kind === 'http' && code === 429) || (kind === 'rpc' && RATE_LIMITED.test(detail))) {
    return `the endpoint is rate-limiting us: lower ${describeSetting('requestsPerSecond')} or ${describeSetting('concurrentRequests')}`;
  }
  if (kind === 'http' && (code === 401 || code === 403)) {
    return "the endpoint refuses our credentials: check the API key in the chain's RPC URL";
  }
  if (kind === 'http' && code !== undefined && code >= 500) {
    return `the endpoint is failing; if it fails only under load, lower ${describeSetting('concurrentRequests')} or ${describeSetting('batchSize')}`;
  }
  if (kind === 'transport' && /timed out/.test(detail)) {
    return `the endpoint answers too slowly: lower ${describeSetting('batchSize')} or ${describeSetting('concurrentRequests')}`;
  }
  if (kind === 'transport') {
    return `the connection failed: check the chain's RPC URL; if the endpoint drops busy connections, lower ${describeSetting('concurrentRequests')}`;
  }
  if (kind === 'invalid-response' && BATCH_MISHANDLED.test(detail)) {
    return `the endpoint mishandles batched calls: set ${describeSetting('batchSize')} to 1`;
  }
  return undefined;
}
