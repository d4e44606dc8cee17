// The client against a tiny scripted HTTP peer on 127.0.0.1: each test decides what
// the "node" answers to the n-th HTTP request and checks what the client made of it.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { JsonRpcClient, type JsonRpcClientOptions } from '../../../adapters/ethereum/jsonRpcClient.ts';
import { RpcError } from '../../../adapters/ethereum/rpcErrors.ts';

type Request = { id: number; method: string; params: unknown[] };
type Handler = (body: Request | Request[], n: number, res: ServerResponse) => void;

let server: Server;
let url: string;
let handler: Handler;
let requests: (Request | Request[])[] = [];

before(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      const body = JSON.parse(text) as Request | Request[];
      requests.push(body);
      handler(body, requests.length, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v2/secret-key`;
});

after(() => {
  server.closeAllConnections();
  server.close();
});

function client(options: Partial<JsonRpcClientOptions> = {}): JsonRpcClient {
  requests = [];
  return new JsonRpcClient({
    url,
    maxAttempts: 4,
    backoff: { baseDelayMs: 1, maxDelayMs: 4, jitter: true },
    ...options,
  });
}

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

function ok(request: Request, result: unknown): unknown {
  return { jsonrpc: '2.0', id: request.id, result };
}

async function rejection(promise: Promise<unknown>): Promise<RpcError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof RpcError, `expected RpcError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a rejection');
}

test('a plain call returns the result and sends a JSON-RPC 2.0 request', async () => {
  const rpc = client();
  handler = (body, _n, res) => json(res, 200, ok(body as Request, '0x2a'));
  assert.equal(await rpc.request('eth_blockNumber', []), '0x2a');
  assert.deepEqual(requests, [{ jsonrpc: '2.0', id: 1, method: 'eth_blockNumber', params: [] }]);
});

test('retryable failures are retried until the node recovers', async () => {
  const cases: { name: string; fail: (req: Request, res: ServerResponse) => void }[] = [
    { name: 'HTTP 503', fail: (_r, res) => json(res, 503, 'upstream down') },
    { name: 'HTTP 429', fail: (_r, res) => json(res, 429, 'slow down', { 'retry-after': '0' }) },
    {
      name: 'JSON-RPC internal error',
      fail: (r, res) =>
        json(res, 200, { jsonrpc: '2.0', id: r.id, error: { code: -32603, message: 'internal' } }),
    },
    {
      name: 'JSON-RPC limit exceeded',
      fail: (r, res) =>
        json(res, 200, { jsonrpc: '2.0', id: r.id, error: { code: -32005, message: 'limit' } }),
    },
    {
      name: 'JSON-RPC internal error not tied to the call (id null)',
      fail: (_r, res) =>
        json(res, 200, { jsonrpc: '2.0', id: null, error: { code: -32603, message: 'internal' } }),
    },
    { name: 'connection reset', fail: (_r, res) => res.socket?.destroy() },
  ];
  for (const { name, fail } of cases) {
    const rpc = client();
    handler = (body, n, res) =>
      n <= 2 ? fail(body as Request, res) : json(res, 200, ok(body as Request, '0x1'));
    assert.equal(await rpc.request('eth_blockNumber', []), '0x1', name);
    assert.equal(requests.length, 3, `${name}: two failures, then success`);
  }
});

test('a failure that keeps happening gives up after maxAttempts with the last error', async () => {
  const rpc = client({ maxAttempts: 3 });
  handler = (_body, _n, res) => json(res, 502, '<html>bad gateway</html>');
  const error = await rejection(rpc.request('eth_blockNumber', []));
  assert.equal(error.kind, 'http');
  assert.equal(error.code, 502);
  assert.equal(error.attempts, 3);
  assert.equal(requests.length, 3);
  assert.doesNotMatch(error.message, /secret-key/, 'the endpoint path (an API key) is never in messages');
});

test('failures not worth retrying fail at once with a typed error', async () => {
  const cases: {
    name: string;
    answer: (req: Request, res: ServerResponse) => void;
    kind: RpcError['kind'];
    message: RegExp;
  }[] = [
    {
      name: 'invalid params',
      answer: (r, res) =>
        json(res, 200, { jsonrpc: '2.0', id: r.id, error: { code: -32602, message: 'bad block' } }),
      kind: 'rpc',
      message: /-32602: bad block/,
    },
    {
      name: 'HTTP 400',
      answer: (_r, res) => json(res, 400, 'bad request'),
      kind: 'http',
      message: /HTTP 400/,
    },
    {
      name: 'HTML with 200',
      answer: (_r, res) => json(res, 200, '<html>captive portal</html>'),
      kind: 'invalid-response',
      message: /not JSON/,
    },
    {
      name: 'JSON that is no response',
      answer: (_r, res) => json(res, 200, { hello: 'world' }),
      kind: 'invalid-response',
      message: /not a JSON-RPC response/,
    },
    {
      name: 'wrong id',
      answer: (r, res) => json(res, 200, { jsonrpc: '2.0', id: r.id + 1000, result: '0x1' }),
      kind: 'invalid-response',
      message: /response id/,
    },
    {
      name: 'malformed error object',
      answer: (r, res) => json(res, 200, { jsonrpc: '2.0', id: r.id, error: 'boom' }),
      kind: 'invalid-response',
      message: /malformed error/,
    },
  ];
  for (const { name, answer, kind, message } of cases) {
    const rpc = client();
    handler = (body, _n, res) => answer(body as Request, res);
    const error = await rejection(rpc.request('eth_getLogs', [{}]));
    assert.equal(error.kind, kind, name);
    assert.match(error.message, message, name);
    assert.match(error.message, /^eth_getLogs: /, `${name}: the message names the method`);
    assert.equal(error.retryable, false, name);
    assert.equal(requests.length, 1, `${name}: no retry`);
  }
});

test('a node that does not answer in time is a retryable transport error', async () => {
  const rpc = client({ timeoutMs: 50, maxAttempts: 2 });
  handler = () => undefined; // never answers
  const error = await rejection(rpc.request('eth_blockNumber', []));
  assert.equal(error.kind, 'transport');
  assert.match(error.message, /timed out after 50 ms/);
  assert.equal(error.attempts, 2);
});

test('an unreachable node is a transport error after all attempts', async () => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const rpc = new JsonRpcClient({
    url: `http://127.0.0.1:${port}`,
    maxAttempts: 2,
    backoff: { baseDelayMs: 1, maxDelayMs: 2, jitter: true },
  });
  const error = await rejection(rpc.request('eth_blockNumber', []));
  assert.equal(error.kind, 'transport');
  assert.match(error.message, /ECONNREFUSED/);
  assert.equal(error.attempts, 2);
});

test('a batch keeps the results that came back and retries only the calls that failed', async () => {
  const rpc = client({ maxBatchSize: 10 });
  let round = 0;
  handler = (body, _n, res) => {
    round++;
    const calls = body as Request[];
    json(
      res,
      200,
      calls
        .map((call) =>
          round === 1 && (call.params[0] as number) % 2 === 1
            ? { jsonrpc: '2.0', id: call.id, error: { code: -32603, message: 'try again' } }
            : ok(call, `r${call.params[0] as number}`),
        )
        .reverse(), // a node may answer a batch in any order
    );
  };
  const results = await rpc.requestBatch([0, 1, 2, 3, 4].map((i) => ({ method: 'm', params: [i] })));
  assert.deepEqual(results, ['r0', 'r1', 'r2', 'r3', 'r4']);
  assert.equal(requests.length, 2);
  assert.deepEqual(
    (requests[1] as Request[]).map((call) => call.params[0]),
    [1, 3],
  );
});

test('a batch is split into requests of at most maxBatchSize calls', async () => {
  const rpc = client({ maxBatchSize: 2 });
  handler = (body, _n, res) =>
    Array.isArray(body)
      ? json(
          res,
          200,
          body.map((call) => ok(call, call.params[0])),
        )
      : json(res, 200, ok(body, body.params[0]));
  const results = await rpc.requestBatch([1, 2, 3, 4, 5].map((i) => ({ method: 'm', params: [i] })));
  assert.deepEqual(results, [1, 2, 3, 4, 5]);
  assert.deepEqual(
    requests.map((r) => (Array.isArray(r) ? r.length : 1)).sort(),
    [1, 2, 2],
    'requests go out concurrently, results come back in call order',
  );
});

test('a batch answer that lacks a call is an invalid response', async () => {
  const rpc = client();
  handler = (body, _n, res) =>
    json(
      res,
      200,
      (body as Request[]).slice(1).map((call) => ok(call, 1)),
    );
  const error = await rejection(
    rpc.requestBatch([
      { method: 'a', params: [] },
      { method: 'b', params: [] },
    ]),
  );
  assert.equal(error.kind, 'invalid-response');
  assert.match(error.message, /lacks id/);
});

test('settled batches return refused calls as values and the rest as results', async () => {
  const rpc = client();
  handler = (body, _n, res) =>
    json(
      res,
      200,
      (body as Request[]).map((call, i) =>
        i === 1
          ? { jsonrpc: '2.0', id: call.id, error: { code: 3, message: 'execution reverted' } }
          : ok(call, '0x01'),
      ),
    );
  const settled = await rpc.requestBatchSettled([0, 1, 2].map(() => ({ method: 'eth_call', params: [] })));
  assert.deepEqual(
    settled.map((s) => (s.ok ? s.result : s.error.code)),
    ['0x01', 3, '0x01'],
  );
});

test('the rate limit makes calls wait for tokens (each call of a batch counts)', async () => {
  let now = 0;
  const slept: number[] = [];
  const clock = { now: () => now, sleep: async (ms: number) => void (slept.push(ms), (now += ms)) };
  const rpc = client({ requestsPerSecond: 50, burst: 1, clock });
  handler = (body, _n, res) =>
    Array.isArray(body)
      ? json(
          res,
          200,
          body.map((call) => ok(call, 1)),
        )
      : json(res, 200, ok(body, '0x1'));
  for (let i = 0; i < 3; i++) await rpc.request('eth_blockNumber', []);
  await rpc.requestBatch([1, 2, 3].map(() => ({ method: 'm', params: [] })));
  await rpc.request('eth_blockNumber', []);
  // 50/s = one token per 20 ms; the batch of 3 waits for a full bucket and owes 2 more.
  assert.deepEqual(slept, [20, 20, 20, 60]);
});

test('an aborted signal stops the retries with the abort reason', async () => {
  const rpc = client({ backoff: { baseDelayMs: 10_000, maxDelayMs: 10_000, jitter: true } });
  handler = (_body, _n, res) => json(res, 503, 'down');
  const controller = new AbortController();
  const pending = rpc.request('eth_blockNumber', [], controller.signal);
  setTimeout(() => controller.abort(new Error('batch cancelled')), 30);
  await assert.rejects(pending, /batch cancelled/);
});

test('the endpoint is redacted to scheme and host', () => {
  const rpc = client();
  assert.match(rpc.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.throws(() => new JsonRpcClient({ url: 'ftp://node' }), /must be http/);
});

/** Answers every call of a request with its first param; `refuse` may answer the request instead. */
function answering(refuse: (body: Request | Request[], res: ServerResponse) => boolean): Handler {
  return (body, _n, res) => {
    if (refuse(body, res)) return;
    if (Array.isArray(body))
      json(
        res,
        200,
        body.map((call) => ok(call, call.params[0])),
      );
    else json(res, 200, ok(body, body.params[0]));
  };
}

const numbered = (count: number): { method: string; params: number[] }[] =>
  Array.from({ length: count }, (_, i) => ({ method: 'eth_getBlockByNumber', params: [i] }));
const sizes = (): number[] => requests.map((r) => (Array.isArray(r) ? r.length : 1));

test('a batch refused as too large is resent in smaller batches, and the smaller size is kept', async () => {
  const warnings: { fields: Record<string, unknown>; message: string }[] = [];
  const logger = {
    warn: (fields: Record<string, unknown>, message: string) => warnings.push({ fields, message }),
  };
  const rpc = client({ maxBatchSize: 100, maxConcurrentRequests: 1, logger: logger as never });
  // A provider capping batches at 10 calls.
  handler = answering((body, res) => {
    if (!Array.isArray(body) || body.length <= 10) return false;
    json(res, 413, 'Request Entity Too Large');
    return true;
  });
  assert.deepEqual(await rpc.requestBatch(numbered(25)), [...Array(25).keys()]);
  assert.equal(rpc.batchSize, 6, '25 → 12 → 6');
  assert.equal(warnings.length, 2);
  assert.match(warnings[1]!.message, /sending smaller batches/);
  assert.equal(warnings[1]!.fields.endpoint, rpc.endpoint);
  assert.match(String(warnings[1]!.fields.remedy), /batchSize .*WORKER_RPC_BATCH_SIZE.* to 6 or less/);

  requests = [];
  assert.deepEqual(await rpc.requestBatch(numbered(25)), [...Array(25).keys()]);
  assert.deepEqual(sizes(), [6, 6, 6, 6, 1], 'the next batch starts at the size learned');
});

test('every provider style of "batch too large" or "no batches" ends in results, not an error', async () => {
  const error = (id: number | null, code: number, message: string): unknown => ({
    jsonrpc: '2.0',
    id,
    error: { code, message },
  });
  const refusals: [name: string, cap: number, answer: (calls: Request[]) => unknown, size: number][] = [
    [
      'geth: one error tied to the first call',
      10,
      (calls) => [error(calls[0]!.id, -32600, 'batch too large')],
      6,
    ],
    [
      'erigon: an untied error',
      10,
      () => error(null, -32600, 'batch limit 10 exceeded (can increase by --rpc.batch.limit)'),
      6,
    ],
    [
      'an error on every call',
      20,
      (calls) => calls.map((call) => error(call.id, -32005, 'batch size too large')),
      12,
    ],
    [
      'jsonrpsee without batches (-32005, no rate limit)',
      1,
      () => error(null, -32005, 'Batched requests are not supported by this server'),
      1,
    ],
    ['a server that parses objects only', 1, () => error(null, -32600, 'Invalid Request'), 1],
  ];
  for (const [name, cap, answer, size] of refusals) {
    const rpc = client({ maxBatchSize: 100, maxConcurrentRequests: 2 });
    handler = answering((body, res) => {
      if (!Array.isArray(body) || body.length <= cap) return false;
      json(res, 200, answer(body));
      return true;
    });
    assert.deepEqual(await rpc.requestBatch(numbered(25)), [...Array(25).keys()], name);
    assert.equal(rpc.batchSize, size, name);
  }
});

test('settled batches adapt too, and still return refused calls as values', async () => {
  const rpc = client({ maxBatchSize: 50 });
  handler = (body, _n, res) => {
    if (Array.isArray(body) && body.length > 4) return json(res, 413, '');
    const calls = Array.isArray(body) ? body : [body];
    const answers = calls.map((call) =>
      (call.params[0] as number) % 5 === 0
        ? { jsonrpc: '2.0', id: call.id, error: { code: 3, message: 'execution reverted' } }
        : ok(call, call.params[0]),
    );
    json(res, 200, Array.isArray(body) ? answers : answers[0]);
  };
  const settled = await rpc.requestBatchSettled(numbered(12));
  assert.deepEqual(
    settled.map((s) => (s.ok ? s.result : 'reverted')),
    ['reverted', 1, 2, 3, 4, 'reverted', 6, 7, 8, 9, 'reverted', 11],
  );
  assert.ok(rpc.batchSize <= 4);
});

test('errors name the endpoint host and the setting to change, never the URL path', async () => {
  const cases: {
    name: string;
    fail: (res: ServerResponse) => void;
    message: RegExp;
    options?: Partial<JsonRpcClientOptions>;
  }[] = [
    {
      name: 'rate limited',
      fail: (res) => json(res, 429, 'Too Many Requests', { 'retry-after': '0' }),
      message:
        /HTTP 429.*\(http:\/\/127\.0\.0\.1:\d+\); .*lower requestsPerSecond .*WORKER_RPC_REQUESTS_PER_SECOND, --rps/,
    },
    {
      name: 'a JSON-RPC error',
      fail: (res) =>
        json(res, 200, { jsonrpc: '2.0', id: 1, error: { code: -32602, message: 'invalid params' } }),
      message: /JSON-RPC error -32602: invalid params \(http:\/\/127\.0\.0\.1:\d+\)$/,
    },
    {
      name: 'a slow endpoint',
      fail: () => undefined,
      message: /timed out after 50 ms \(http:\/\/127\.0\.0\.1:\d+\); .*lower batchSize/,
      options: { timeoutMs: 50 },
    },
  ];
  for (const { name, fail, message, options } of cases) {
    const rpc = client({ maxAttempts: 2, ...options });
    handler = (_body, _n, res) => fail(res);
    const error = await rejection(rpc.request('eth_blockNumber', []));
    assert.match(error.message, message, name);
    assert.doesNotMatch(error.message, /secret-key/, name);
  }
});

test('the client keeps at most maxConcurrentRequests HTTP requests in flight, across callers', async () => {
  let inFlight = 0;
  let most = 0;
  handler = (body, _n, res) => {
    inFlight++;
    most = Math.max(most, inFlight);
    setTimeout(() => {
      inFlight--;
      json(
        res,
        200,
        (body as Request[]).map((call) => ok(call, 1)),
      );
    }, 5);
  };
  const rpc = client({ maxBatchSize: 2, maxConcurrentRequests: 3 });
  await Promise.all([rpc.requestBatch(numbered(20)), rpc.requestBatch(numbered(20))]);
  assert.equal(requests.length, 20);
  assert.equal(most, 3);
});
