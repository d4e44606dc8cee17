// Client settings from the chain file, from text (env, flags), merged, and the remedies
// that name them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  HOSTED_PROVIDER_SETTINGS,
  type RpcClientSettingName,
  type RpcClientSettings,
  parseRpcClientSetting,
  parseRpcClientSettings,
  withOverrides,
} from '../../../dataplane/rpcClientSettings.ts';
import type { RpcFailureKind } from '../../../adapters/ethereum/rpcErrors.ts';
import { remedyFor } from '../../../adapters/ethereum/rpcRemedies.ts';
import { InvalidValueError } from '../../../dataplane/validNames.ts';

test('the chain file: what it omits comes from the hosted-provider defaults', () => {
  const cases: [value: unknown, expected: RpcClientSettings][] = [
    [undefined, HOSTED_PROVIDER_SETTINGS],
    [{}, HOSTED_PROVIDER_SETTINGS],
    [{ batchSize: 10 }, { ...HOSTED_PROVIDER_SETTINGS, batchSize: 10 }],
    [
      { batchSize: 100, concurrentRequests: 8, requestsPerSecond: 0, maxLogsBlockRange: 0 },
      { batchSize: 100, concurrentRequests: 8, requestsPerSecond: 0, maxLogsBlockRange: 0 },
    ],
    [{ requestsPerSecond: 2.5 }, { ...HOSTED_PROVIDER_SETTINGS, requestsPerSecond: 2.5 }],
  ];
  for (const [value, expected] of cases) assert.deepEqual(parseRpcClientSettings(value), expected);
  assert.deepEqual(HOSTED_PROVIDER_SETTINGS, {
    batchSize: 50,
    concurrentRequests: 4,
    requestsPerSecond: 25,
    maxLogsBlockRange: 1000,
  });
});

test('the chain file: refusals name the key and its limits', () => {
  const cases: [value: unknown, message: RegExp][] = [
    [[], /rpcClient must be an object/],
    [null, /rpcClient must be an object/],
    [{ batchsize: 5 }, /unknown keys batchsize \(known: batchSize, /],
    [{ batchSize: 0 }, /rpcClient.batchSize must be an integer from 1 to 1000, not 0/],
    [{ batchSize: 1.5 }, /rpcClient.batchSize must be an integer/],
    [{ batchSize: '10' }, /rpcClient.batchSize must be an integer.*not "10"/],
    [{ concurrentRequests: 65 }, /concurrentRequests must be an integer from 1 to 64/],
    [{ requestsPerSecond: -1 }, /requestsPerSecond must be a number from 0 to 100000/],
    [{ maxLogsBlockRange: -5 }, /maxLogsBlockRange must be an integer from 0/],
  ];
  for (const [value, message] of cases) {
    assert.throws(
      () => parseRpcClientSettings(value),
      (e: unknown) => e instanceof InvalidValueError && message.test(e.message),
      String(message),
    );
  }
});

test('from text: numbers within the limits, or an error naming the source', () => {
  const cases: [name: RpcClientSettingName, text: string, expected: number | RegExp][] = [
    ['batchSize', '10', 10],
    ['batchSize', ' 1 ', 1],
    ['batchSize', '0', /WORKER_X must be an integer from 1 to 1000, not "0"/],
    ['batchSize', '2.5', /must be an integer/],
    ['batchSize', '1e3', /must be an integer/],
    ['batchSize', '', /must be an integer/],
    ['requestsPerSecond', '0', 0],
    ['requestsPerSecond', '0.5', 0.5],
    ['requestsPerSecond', '-1', /must be a number from 0 to 100000/],
    ['requestsPerSecond', 'fast', /not "fast"/],
    ['concurrentRequests', '64', 64],
    ['maxLogsBlockRange', '0', 0],
    ['maxLogsBlockRange', '100', 100],
  ];
  for (const [name, text, expected] of cases) {
    if (typeof expected === 'number') assert.equal(parseRpcClientSetting(name, text, 'WORKER_X'), expected);
    else assert.throws(() => parseRpcClientSetting(name, text, 'WORKER_X'), expected);
  }
});

test('overrides replace only the settings they give', () => {
  const chain = { batchSize: 100, concurrentRequests: 4, requestsPerSecond: 0, maxLogsBlockRange: 0 };
  assert.deepEqual(withOverrides(chain, {}), chain);
  assert.deepEqual(withOverrides(chain, { batchSize: 10, requestsPerSecond: 5 }), {
    ...chain,
    batchSize: 10,
    requestsPerSecond: 5,
  });
  assert.deepEqual(withOverrides(chain, { maxLogsBlockRange: 0 }), chain);
});

test('remedies name the setting to change, in every spelling', () => {
  const rate =
    /lower requestsPerSecond \(chains.json rpcClient.requestsPerSecond, WORKER_RPC_REQUESTS_PER_SECOND, --rps\) or concurrentRequests/;
  const cases: [
    kind: RpcFailureKind,
    code: number | undefined,
    message: string,
    expected: RegExp | undefined,
  ][] = [
    ['http', 429, 'HTTP 429: "Too Many Requests"', rate],
    ['rpc', -32005, 'JSON-RPC error -32005: daily request count exceeded, request rate limited', rate],
    ['rpc', -32007, 'JSON-RPC error -32007: 100/second request limit reached', rate],
    [
      'http',
      503,
      'HTTP 503: "unavailable"',
      /failing.*lower concurrentRequests .* or batchSize \(chains.json rpcClient.batchSize, WORKER_RPC_BATCH_SIZE, --rpc-batch-size\)/,
    ],
    ['http', 401, 'HTTP 401: "invalid api key"', /check the API key/],
    [
      'transport',
      undefined,
      'timed out after 30000 ms',
      /too slowly: lower batchSize .* or concurrentRequests/,
    ],
    ['transport', undefined, 'transport error ECONNRESET', /connection failed.*lower concurrentRequests/],
    [
      'invalid-response',
      undefined,
      'batch response lacks id 7',
      /mishandles batched calls: set batchSize .* to 1/,
    ],
    ['rpc', -32602, 'JSON-RPC error -32602: invalid params', undefined],
    ['rpc', 3, 'JSON-RPC error 3: execution reverted', undefined],
    ['http', 400, 'HTTP 400: "bad request"', undefined],
  ];
  for (const [kind, code, message, expected] of cases) {
    const remedy = remedyFor({ kind, code, detail: message });
    if (expected === undefined) assert.equal(remedy, undefined, message);
    else assert.match(remedy ?? '', expected, message);
  }
});
