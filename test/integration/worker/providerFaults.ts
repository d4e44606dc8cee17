// What a hosted JSON-RPC provider does to a client that a local node never does, injected by
// FlakyRpc in front of anvil: batch caps, no batches, eth_getLogs range and result caps, a
// missing method, 429s with Retry-After, connections cut mid-response. A call refused for
// rate or cut once is let through the next time, so a run ends however unlucky its timing.
import type { ServerResponse } from 'node:http';

export interface ProviderFaults {
  /** HTTP 413 for a batch of more calls. */
  batchCap?: number;
  /** Any batch within the cap is refused the way jsonrpsee refuses it (-32005, not tied to a call). */
  noBatches?: boolean;
  /** eth_getLogs over more blocks is refused (-32600, "limited to a N block range"). */
  logRangeCap?: number;
  /** eth_getLogs answers with more logs are refused (-32005, "returned more than N results"). */
  logResultCap?: number;
  /** Methods answered with -32601. */
  missingMethods?: readonly string[];
  /** One request in N is answered 429 with `Retry-After: 1`. */
  rateLimitOneIn?: number;
  /** One response in N is cut off halfway (the socket is destroyed). */
  resetOneIn?: number;
}

export type InjectedFault =
  'batchCap' | 'noBatches' | 'logRangeCap' | 'logResultCap' | 'missingMethod' | 'rateLimited' | 'reset';

interface Call {
  jsonrpc: string;
  id: number | string | null;
  method: string;
  params?: unknown[];
}

/** Sends a JSON-RPC payload upstream; the status and the body text come back. */
export type Forward = (payload: string) => Promise<{ status: number; text: string }>;

function json(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

function refusal(call: Call, code: number, message: string): Record<string, unknown> {
  return { jsonrpc: '2.0', id: call.id, error: { code, message } };
}

/** A fault that fires once every `oneIn` requests, never twice on the same calls. */
class EveryNth {
  readonly #oneIn: number;
  readonly #hit = new Set<string>();
  #since = 0;

  constructor(oneIn: number) {
    this.#oneIn = oneIn;
  }

  fires(key: string): boolean {
    this.#since++;
    if (this.#since < this.#oneIn || this.#hit.has(key)) return false;
    this.#since = 0;
    this.#hit.add(key);
    return true;
  }
}

export class ProviderFaultInjector {
  readonly faults: ProviderFaults;
  readonly injected: Record<InjectedFault, number> = {
    batchCap: 0,
    noBatches: 0,
    logRangeCap: 0,
    logResultCap: 0,
    missingMethod: 0,
    rateLimited: 0,
    reset: 0,
  };
  /** Calls by method that reached the upstream node. */
  readonly forwardedCalls = new Map<string, number>();
  readonly #rateLimit: EveryNth | undefined;
  readonly #reset: EveryNth | undefined;

  constructor(faults: ProviderFaults) {
    this.faults = faults;
    this.#rateLimit = faults.rateLimitOneIn ? new EveryNth(faults.rateLimitOneIn) : undefined;
    this.#reset = faults.resetOneIn ? new EveryNth(faults.resetOneIn) : undefined;
  }

  async answer(body: Buffer, response: ServerResponse, forward: Forward): Promise<void> {
    const parsed = JSON.parse(body.toString()) as Call | Call[];
    const calls = Array.isArray(parsed) ? parsed : [parsed];
    const key = JSON.stringify(calls.map((call) => [call.method, call.params]));
    if (this.#rateLimit?.fires(key)) {
      this.injected.rateLimited++;
      json(response, 429, { message: 'Too Many Requests' }, { 'retry-after': '1' });
      return;
    }
    if (Array.isArray(parsed) && this.faults.batchCap !== undefined && parsed.length > this.faults.batchCap) {
      this.injected.batchCap++;
      response.writeHead(413, { 'content-type': 'text/plain' }).end('Request Entity Too Large');
      return;
    }
    if (Array.isArray(parsed) && this.faults.noBatches) {
      this.injected.noBatches++;
      const message = 'Batched requests are not supported by this server';
      json(response, 200, { jsonrpc: '2.0', id: null, error: { code: -32005, message } });
      return;
    }

    const answers = new Map<Call, unknown>();
    for (const call of calls) {
      const refused = this.#refuseBeforeForwarding(call);
      if (refused) answers.set(call, refused);
    }
    const forwarded = calls.filter((call) => !answers.has(call));
    if (forwarded.length > 0) {
      for (const call of forwarded)
        this.forwardedCalls.set(call.method, (this.forwardedCalls.get(call.method) ?? 0) + 1);
      const upstream = await forward(JSON.stringify(forwarded));
      if (upstream.status !== 200) {
        response.writeHead(upstream.status, { 'content-type': 'application/json' }).end(upstream.text);
        return;
      }
      const replies = JSON.parse(upstream.text) as { id: unknown; result?: unknown }[];
      for (const call of forwarded) {
        const reply = replies.find((candidate) => candidate.id === call.id);
        answers.set(call, this.#refuseAfterForwarding(call, reply));
      }
    }
    const text = JSON.stringify(
      Array.isArray(parsed) ? calls.map((call) => answers.get(call)) : answers.get(parsed),
    );
    if (this.#reset?.fires(key)) {
      this.injected.reset++;
      response.writeHead(200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(text),
      });
      response.write(text.slice(0, Math.floor(text.length / 2)), () => response.destroy());
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end(text);
  }

  #refuseBeforeForwarding(call: Call): unknown {
    if (this.faults.missingMethods?.includes(call.method)) {
      this.injected.missingMethod++;
      return refusal(call, -32601, `the method ${call.method} does not exist/is not available`);
    }
    const cap = this.faults.logRangeCap;
    if (call.method === 'eth_getLogs' && cap !== undefined) {
      const filter = call.params?.[0] as { fromBlock: string; toBlock: string };
      if (Number(filter.toBlock) - Number(filter.fromBlock) + 1 > cap) {
        this.injected.logRangeCap++;
        return refusal(call, -32600, `eth_getLogs is limited to a ${cap} block range`);
      }
    }
    return undefined;
  }

  #refuseAfterForwarding(call: Call, reply: { result?: unknown } | undefined): unknown {
    const cap = this.faults.logResultCap;
    if (
      call.method === 'eth_getLogs' &&
      cap !== undefined &&
      Array.isArray(reply?.result) &&
      reply.result.length > cap
    ) {
      this.injected.logResultCap++;
      return refusal(call, -32005, `query returned more than ${cap} results`);
    }
    return reply;
  }
}
