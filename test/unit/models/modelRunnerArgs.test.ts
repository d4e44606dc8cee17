import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError, parseBlockRange, parseCommandLine } from '../../../cli/modelRunnerArgs.ts';

test('block ranges are inclusive on the command line and half-open inside', () => {
  assert.deepEqual(parseBlockRange('0-999'), { minBlock: 0, maxBlock: 1000 });
  assert.deepEqual(parseBlockRange('5-5'), { minBlock: 5, maxBlock: 6 });
  for (const bad of [
    '',
    '5',
    '-5',
    '5-',
    '9-1',
    'a-b',
    '1-2-3',
    '1 - 2',
    '0x10-0x20',
    '1-9999999999999999',
  ]) {
    assert.throws(() => parseBlockRange(bad), UsageError, bad);
  }
});

const base = ['models', 'run', 'ingest', '--chain', 'local', '--blocks', '0-99', '--lake', '/tmp/lake'];

test('run: flags win over the environment, the environment over defaults', () => {
  const env = { CLICKHOUSE_URL: 'http://ch:8123', REDIS_URL: 'redis://r:6379', CLICKHOUSE_DATABASE: 'envdb' };
  const fromEnv = parseCommandLine(base, env);
  assert.deepEqual(fromEnv, {
    command: 'run',
    model: 'ingest',
    chain: 'local',
    range: { minBlock: 0, maxBlock: 100 },
    rpcUrl: undefined,
    lakeUrl: '/tmp/lake',
    clickhouseUrl: 'http://ch:8123',
    clickhouseDatabase: 'envdb',
    redisUrl: 'redis://r:6379',
    redisPrefix: 'model-runner:',
    rpcClient: {},
    force: false,
    json: false,
    verbose: false,
  });
  const fromFlags = parseCommandLine(
    [
      ...base,
      '--clickhouse',
      'chdb:///tmp/m',
      '--clickhouse-database',
      'db',
      '--redis',
      '',
      '--rps',
      '25',
      '--rpc-batch-size',
      '10',
      '--logs-block-range',
      '0',
      '--force',
      '--json',
    ],
    env,
  );
  assert.equal(fromFlags.command, 'run');
  if (fromFlags.command !== 'run') return;
  assert.equal(fromFlags.clickhouseUrl, 'chdb:///tmp/m');
  assert.equal(fromFlags.clickhouseDatabase, 'db');
  assert.equal(fromFlags.redisUrl, undefined, 'an empty --redis turns the cache off');
  assert.deepEqual(fromFlags.rpcClient, { batchSize: 10, requestsPerSecond: 25, maxLogsBlockRange: 0 });
  assert.equal(fromFlags.force, true);
});

test('usage errors say what is missing', () => {
  const env = { CLICKHOUSE_URL: 'http://ch:8123' };
  const cases: { args: string[]; env?: Record<string, string>; message: RegExp }[] = [
    { args: ['jobs', 'list'], message: /unknown command "jobs"/ },
    { args: ['models', 'delete'], message: /unknown command models "delete"/ },
    { args: ['models', 'list', 'extra'], message: /takes no arguments/ },
    { args: ['models', 'run'], message: /needs a model name/ },
    { args: ['models', 'run', 'ingest', '--blocks', '0-9', '--lake', '/l'], message: /--chain is required/ },
    {
      args: ['models', 'run', 'ingest', '--chain', 'local', '--lake', '/l'],
      message: /--blocks is required/,
    },
    {
      args: ['models', 'run', 'ingest', '--chain', 'local', '--blocks', '0-9'],
      message: /--lake \(or LAKE_URL\)/,
    },
    { args: base, env: {}, message: /a marker store is required/ },
    { args: [...base, '--rps=-1'], message: /--rps must be a number from 0 to 100000/ },
    { args: [...base, '--rpc-batch-size', '0'], message: /--rpc-batch-size must be an integer from 1/ },
    { args: [...base, '--rpc-concurrency', 'x'], message: /--rpc-concurrency must be an integer/ },
    { args: [...base, '--logs-block-range', '1e3'], message: /--logs-block-range must be an integer/ },
    { args: [...base, '--redis-prefix', 'a b'], message: /--redis-prefix/ },
    { args: [...base, '--bogus'], message: /Unknown option '--bogus'/ },
  ];
  for (const { args, env: caseEnv, message } of cases) {
    assert.throws(
      () => parseCommandLine(args, caseEnv ?? env),
      (e: unknown) => e instanceof UsageError && message.test(e.message),
      args.join(' '),
    );
  }
});

test('list and help', () => {
  assert.deepEqual(parseCommandLine(['models', 'list'], {}), { command: 'list', json: false });
  assert.deepEqual(parseCommandLine(['models', 'list', '--json'], {}), { command: 'list', json: true });
  assert.deepEqual(parseCommandLine([], {}), { command: 'help' });
  assert.deepEqual(parseCommandLine(['--help'], {}), { command: 'help' });
});
