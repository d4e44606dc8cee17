// How eth_getLogs queries are cut, and what a refusal leads to.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type LogQueryDecision,
  type LogQueryRefusal,
  logQueryRefusal,
  nextLogQuerySpan,
  onLogQueryRefused,
} from '../../../adapters/ethereum/logRangeSplitting.ts';
import { RpcError, type RpcFailureKind } from '../../../adapters/ethereum/rpcErrors.ts';

test('refusals are told apart by what the provider says', () => {
  const cases: [
    kind: RpcFailureKind,
    message: string,
    retryable: boolean,
    expected: LogQueryRefusal | undefined,
  ][] = [
    ['rpc', 'JSON-RPC error -32005: query returned more than 10000 results', false, 'results'],
    [
      'rpc',
      'JSON-RPC error -32602: Log response size exceeded. You can make eth_getLogs requests with up to a 2K block range',
      false,
      'results',
    ],
    ['rpc', 'JSON-RPC error -32005: too many logs, max 300', false, 'results'],
    ['rpc', 'JSON-RPC error -32000: query timeout exceeded', false, 'results'],
    ['rpc', 'JSON-RPC error -32600: eth_getLogs is limited to a 100 block range', false, 'range'],
    ['rpc', 'JSON-RPC error -32602: block range is too wide', false, 'range'],
    ['rpc', 'JSON-RPC error -32000: exceed maximum block range: 1000', false, 'range'],
    ['rpc', 'JSON-RPC error -32602: invalid block number', false, 'other'],
    ['http', 'HTTP 400: "block range too large"', false, 'range'],
    ['http', 'HTTP 413: "response too large"', false, 'results'],
    ['http', 'HTTP 400: "bad request"', false, undefined],
    ['http', 'HTTP 503: "query returned more than 10000 results"', true, undefined],
    ['transport', 'timed out after 30000 ms', true, undefined],
    ['invalid-response', 'response is not JSON', false, undefined],
  ];
  for (const [kind, message, retryable, expected] of cases) {
    const error = new RpcError(kind, 'eth_getLogs', message, { retryable });
    assert.equal(logQueryRefusal(error), expected, message);
  }
});

test('queries take at most the range in use, from where the last one ended', () => {
  const cases: [from: number, to: number, maxRange: number, expected: [number, number]][] = [
    [0, 99, 0, [0, 99]],
    [0, 99, 100, [0, 99]],
    [0, 99, 1000, [0, 99]],
    [0, 99, 30, [0, 29]],
    [90, 99, 30, [90, 99]],
    [5, 5, 1, [5, 5]],
    [5, 5, 0, [5, 5]],
  ];
  for (const [from, to, maxRange, [fromBlock, toBlock]] of cases) {
    assert.deepEqual(
      nextLogQuerySpan(from, to, maxRange),
      { fromBlock, toBlock },
      `${from}-${to}/${maxRange}`,
    );
  }
  assert.throws(() => nextLogQuerySpan(10, 9, 0), /empty log range/);
});

test('a refused query is halved; a refused range is remembered; one block over the cap reads receipts', () => {
  const span = (fromBlock: number, toBlock: number): { fromBlock: number; toBlock: number } => ({
    fromBlock,
    toBlock,
  });
  const split = (a: [number, number], b: [number, number], maxRange: number): LogQueryDecision => ({
    kind: 'split',
    halves: [span(...a), span(...b)],
    maxRange,
  });
  const cases: [
    name: string,
    from: number,
    to: number,
    refusal: LogQueryRefusal,
    maxRange: number,
    expected: LogQueryDecision,
  ][] = [
    ['results: split, range unchanged', 0, 11, 'results', 0, split([0, 5], [6, 11], 0)],
    ['results with a range in use', 0, 999, 'results', 1000, split([0, 499], [500, 999], 1000)],
    ['range: learn the wider half', 0, 999, 'range', 0, split([0, 499], [500, 999], 500)],
    ['range below the one in use', 0, 999, 'range', 1000, split([0, 499], [500, 999], 500)],
    ['range: odd width, wider half first', 10, 14, 'range', 5, split([10, 12], [13, 14], 3)],
    ['range: never raises a lower one', 0, 999, 'range', 100, split([0, 499], [500, 999], 100)],
    ['other: split, range unchanged', 12, 14, 'other', 0, split([12, 13], [14, 14], 0)],
    ['two blocks', 7, 8, 'results', 0, split([7, 7], [8, 8], 0)],
    ['one block over the result cap', 13, 13, 'results', 0, { kind: 'receipts', block: 13 }],
    ['one block refused for its range', 13, 13, 'range', 1, { kind: 'fail' }],
    ['one block refused otherwise', 13, 13, 'other', 0, { kind: 'fail' }],
  ];
  for (const [name, from, to, refusal, maxRange, expected] of cases) {
    assert.deepEqual(onLogQueryRefused(span(from, to), refusal, maxRange), expected, name);
  }
});
