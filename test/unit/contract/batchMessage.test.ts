import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  batchIdOf,
  batchMessageFor,
  isBatchId,
  encodeBatchMessage,
  parseBatchMessage,
  validateRunRequest,
  validateBatchMessage,
  type BatchMessage,
} from '../../../contract/batchMessage.ts';

const valid: BatchMessage = {
  runId: { namespace: 'team-a', name: 'erc20-transfers-2024', uid: '6f1c2a4e-1b2c-4d5e-8f90-123456789abc' },
  batchId: 'ethereum/erc20_transfers/18000000',
  model: 'erc20_transfers',
  version: 1,
  chain: 'ethereum',
  minBlock: 18_000_000,
  maxBlock: 18_000_500,
  force: false,
  maxRetriesPerBatch: 3,
  attempt: 1,
  enqueuedAt: '2024-10-01T12:00:00.000Z',
};

function withField(field: string, value: unknown): Record<string, unknown> {
  return { ...valid, [field]: value };
}

test('a well-formed message parses to the same values', () => {
  const parsed = parseBatchMessage(Buffer.from(JSON.stringify(valid)));
  assert.deepEqual(parsed, { ok: true, message: valid });
});

test('unknown extra fields are ignored (a newer operator may add some)', () => {
  const parsed = validateBatchMessage({ ...valid, priority: 'high' });
  assert.deepEqual(parsed, { ok: true, message: valid });
});

test('encode then parse round-trips', () => {
  assert.deepEqual(parseBatchMessage(encodeBatchMessage(valid)), { ok: true, message: valid });
});

test('batchIdOf is <chain>/<model>/<minBlock>', () => {
  assert.equal(batchIdOf('op', 'ingest', 123_400_000), 'op/ingest/123400000');
});

const rejections: [string, unknown, RegExp][] = [
  ['not an object', [], /JSON object/],
  ['null', null, /JSON object/],
  ['runId missing', withField('runId', undefined), /runId must be an object/],
  ['runId a string', withField('runId', 'ns/name'), /runId must be an object/],
  [
    'namespace upper case',
    withField('runId', { ...valid.runId, namespace: 'Team' }),
    /namespace "Team" must be a DNS label/,
  ],
  [
    'run name with a slash',
    withField('runId', { ...valid.runId, name: 'a/b' }),
    /ModelRun name "a\/b" must be a DNS label/,
  ],
  ['uid empty', withField('runId', { ...valid.runId, uid: '' }), /run uid "" must be/],
  ['model with a path', withField('model', '../etc'), /model name/],
  ['model upper case', withField('model', 'ERC20'), /model name/],
  ['version zero', withField('version', 0), /version/],
  ['version a string', withField('version', '1'), /version must be an integer/],
  ['chain with a hyphen', withField('chain', 'op-mainnet'), /chain name/],
  ['chain with a quote', withField('chain', "eth'; DROP"), /chain name/],
  ['minBlock negative', withField('minBlock', -1), /minBlock/],
  ['minBlock fractional', withField('minBlock', 1.5), /minBlock must be an integer/],
  ['minBlock unsafe', withField('minBlock', 2 ** 60), /minBlock must be an integer/],
  ['maxBlock equal to minBlock', withField('maxBlock', valid.minBlock), /maxBlock must be greater/],
  ['force a string', withField('force', 'true'), /force must be a boolean/],
  ['maxRetries over the limit', withField('maxRetriesPerBatch', 101), /maxRetriesPerBatch/],
  ['attempt zero', withField('attempt', 0), /attempt/],
  ['a sink topic with a slash', withField('sinkTopic', 'a/b'), /topic name/],
  ['version over 9999', withField('version', 10_000), /version/],
  ['enqueuedAt not ISO', withField('enqueuedAt', 'yesterday'), /enqueuedAt/],
  [
    'enqueuedAt impossible day',
    withField('enqueuedAt', '2024-13-45T00:00:00Z'),
    /enqueuedAt is not a valid time/,
  ],
  ['batchId of another block', withField('batchId', 'ethereum/erc20_transfers/1'), /batchId must be/],
  ['batchId missing', withField('batchId', undefined), /batchId must be a string/],
];

for (const [name, value, reason] of rejections) {
  test(`rejects: ${name}`, () => {
    const parsed = validateBatchMessage(value);
    assert.equal(parsed.ok, false);
    assert.match((parsed as { reason: string }).reason, reason);
  });
}

const bodies: [string, string | Buffer, RegExp][] = [
  ['not JSON', 'hello', /not JSON/],
  ['truncated JSON', '{"runId":', /not JSON/],
  ['empty body', '', /not JSON/],
  ['a JSON string', '"batch"', /JSON object/],
  ['oversized', Buffer.alloc(20_000, 0x20), /bytes, more than/],
];

for (const [name, body, reason] of bodies) {
  test(`parseBatchMessage never throws: ${name}`, () => {
    const parsed = parseBatchMessage(body);
    assert.equal(parsed.ok, false);
    assert.match((parsed as { reason: string }).reason, reason);
  });
}

test('encodeBatchMessage refuses an invalid message', () => {
  assert.throws(() => encodeBatchMessage({ ...valid, chain: 'Bad' }), /invalid batch message: chain name/);
});

test('a sink topic travels in the message when the run names one', () => {
  const withTopic = { ...valid, sinkTopic: 'prod-ethereum-transfers' };
  assert.deepEqual(parseBatchMessage(encodeBatchMessage(withTopic)), { ok: true, message: withTopic });
});

test('batchMessageFor turns a run and one of its batches into the message workers accept', () => {
  const run = {
    runId: valid.runId,
    model: 'erc20_transfers',
    version: 1,
    chain: 'ethereum',
    range: { minBlock: 18_000_000, maxBlock: 18_001_000 },
    force: false,
    maxRetriesPerBatch: 3,
  };
  const enqueuedAt = new Date('2024-10-01T12:00:00.000Z');
  assert.deepEqual(batchMessageFor(run, { minBlock: 18_000_000, maxBlock: 18_000_500 }, enqueuedAt), valid);
  assert.deepEqual(
    batchMessageFor(
      { ...run, sinkTopic: 'prod-x' },
      { minBlock: 18_000_000, maxBlock: 18_000_500 },
      enqueuedAt,
      2,
    ),
    { ...valid, sinkTopic: 'prod-x', attempt: 2 },
  );
  assert.throws(
    () => batchMessageFor({ ...run, chain: 'Bad' }, { minBlock: 0, maxBlock: 1 }, enqueuedAt),
    /chain name/,
  );
});

test("a run request (a Job pod's WORKER_RUN) follows the rules of its messages", () => {
  const run = {
    runId: valid.runId,
    model: 'erc20_transfers',
    version: 1,
    chain: 'ethereum',
    range: { minBlock: 18_000_000, maxBlock: 18_001_000 },
    force: true,
    maxRetriesPerBatch: 2,
  };
  assert.deepEqual(validateRunRequest(run), { ok: true, run });
  assert.deepEqual(validateRunRequest({ ...run, sinkTopic: 'prod-x' }), {
    ok: true,
    run: { ...run, sinkTopic: 'prod-x' },
  });
  const refusals: [unknown, RegExp][] = [
    [[], /run must be a JSON object/],
    [{ ...run, range: undefined }, /range must be an object/],
    [{ ...run, range: { minBlock: 5, maxBlock: 5 } }, /maxBlock must be greater than minBlock/],
    [{ ...run, range: { minBlock: -1, maxBlock: 5 } }, /range.minBlock/],
    [{ ...run, chain: 'Bad' }, /chain name "Bad"/],
    [{ ...run, maxRetriesPerBatch: 101 }, /maxRetriesPerBatch/],
  ];
  for (const [value, reason] of refusals) {
    const parsed = validateRunRequest(value);
    assert.equal(parsed.ok, false);
    assert.match((parsed as { reason: string }).reason, reason);
  }
});

test('isBatchId accepts exactly what batchIdOf makes', () => {
  assert.equal(isBatchId(batchIdOf('ethereum', 'erc20_transfers', 18_000_000)), true);
  for (const bad of [
    'ethereum/erc20_transfers',
    'Ethereum/x/1',
    'eth/x/1/2',
    'eth/x/-1',
    'eth/x/1e3',
    'eth/x/99999999999999999',
    'eth//1',
  ]) {
    assert.equal(isBatchId(bad), false, bad);
  }
});
