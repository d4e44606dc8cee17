import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  UsageError,
  parseBlockRange,
  parseCommandLine,
  parseSince,
  sinceInstant,
} from '../../../cli/modelRunnerArgs.ts';

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

const DB = { DATABASE_URL: 'postgres://u:p@db:5432/history' };

test('runs list: filters, defaults and the database from DATABASE_URL', () => {
  const cases: [string[], Record<string, unknown>][] = [
    [['runs', 'list'], { command: 'runs-list', databaseUrl: DB.DATABASE_URL, limit: 100, json: false }],
    [
      ['runs', 'list', '--model', 'erc20_transfers', '--chain', 'base', '--phase', 'failed', '--json'],
      {
        command: 'runs-list',
        databaseUrl: DB.DATABASE_URL,
        model: 'erc20_transfers',
        chain: 'base',
        phase: 'Failed',
        limit: 100,
        json: true,
      },
    ],
    [
      ['runs', 'list', '--since', '24h', '--limit', '5'],
      {
        command: 'runs-list',
        databaseUrl: DB.DATABASE_URL,
        since: { kind: 'ago', ms: 86_400_000 },
        limit: 5,
        json: false,
      },
    ],
    [
      ['runs', 'list', '--since=2026-05-01'],
      {
        command: 'runs-list',
        databaseUrl: DB.DATABASE_URL,
        since: { kind: 'day', day: '2026-05-01' },
        limit: 100,
        json: false,
      },
    ],
  ];
  for (const [args, expected] of cases)
    assert.deepEqual(parseCommandLine(args, DB), expected, args.join(' '));
});

test('runs show: a uid, or namespace/name', () => {
  assert.deepEqual(parseCommandLine(['runs', 'show', '0b6b4f3e-3f0e-4c55-9d1a-2f4b8c1d2e3f', '--json'], DB), {
    command: 'runs-show',
    databaseUrl: DB.DATABASE_URL,
    run: { uid: '0b6b4f3e-3f0e-4c55-9d1a-2f4b8c1d2e3f' },
    json: true,
  });
  assert.deepEqual(parseCommandLine(['runs', 'show', 'team-a/transfers-18m'], DB), {
    command: 'runs-show',
    databaseUrl: DB.DATABASE_URL,
    run: { namespace: 'team-a', name: 'transfers-18m' },
    json: false,
  });
  assert.deepEqual(parseCommandLine(['runs', '--help'], DB), { command: 'help' });
});

test('--since: durations back from now and UTC days; anything else is refused', () => {
  const now = new Date('2026-05-10T12:00:00Z');
  const cases: [string, string][] = [
    ['30m', '2026-05-10T11:30:00.000Z'],
    ['24h', '2026-05-09T12:00:00.000Z'],
    ['7d', '2026-05-03T12:00:00.000Z'],
    ['2026-05-01', '2026-05-01T00:00:00.000Z'],
    ['2024-02-29', '2024-02-29T00:00:00.000Z'],
  ];
  for (const [text, instant] of cases)
    assert.equal(sinceInstant(parseSince(text), now).toISOString(), instant, text);
  for (const bad of [
    '',
    'yesterday',
    '24',
    'h',
    '0h',
    '-1d',
    '1w',
    '1.5h',
    '2026-13-01',
    '2025-02-29',
    '2026-5-1',
    '1234567d',
  ]) {
    assert.throws(() => parseSince(bad), UsageError, bad);
  }
});

test('runs: usage errors say what is wrong', () => {
  const cases: { args: string[]; env?: Record<string, string>; message: RegExp }[] = [
    { args: ['runs', 'list'], env: {}, message: /DATABASE_URL is not set/ },
    { args: ['runs', 'list'], env: { DATABASE_URL: 'mysql://x' }, message: /must be a postgres:\/\/ URL/ },
    { args: ['runs'], message: /unknown command runs ""/ },
    { args: ['runs', 'delete'], message: /unknown command runs "delete"/ },
    { args: ['runs', 'list', 'extra'], message: /takes no arguments/ },
    { args: ['runs', 'list', '--since', 'yesterday'], message: /--since must be a time back from now/ },
    {
      args: ['runs', 'list', '--phase', 'Done'],
      message: /--phase must be one of Pending, Planning, Running/,
    },
    { args: ['runs', 'list', '--model', 'Bad Model'], message: /--model: model name/ },
    { args: ['runs', 'list', '--chain', 'x;drop'], message: /--chain: chain name/ },
    { args: ['runs', 'list', '--limit', '0'], message: /--limit must be a whole number from 1/ },
    { args: ['runs', 'list', '--blocks', '0-9'], message: /Unknown option '--blocks'/ },
    { args: ['runs', 'show'], message: /needs a run: its uid or namespace\/name/ },
    { args: ['runs', 'show', 'a/b/c'], message: /is not namespace\/name/ },
    { args: ['runs', 'show', 'Team/x'], message: /is not namespace\/name/ },
    { args: ['runs', 'show', 'not a uid'], message: /neither a run uid nor namespace\/name/ },
    { args: ['runs', 'show', 'ns/x', '--since', '1d'], message: /runs show takes no --since/ },
    { args: ['runs', 'show', 'ns/x', 'ns/y'], message: /unexpected arguments: ns\/y/ },
  ];
  for (const { args, env, message } of cases) {
    assert.throws(
      () => parseCommandLine(args, env ?? DB),
      (e: unknown) => e instanceof UsageError && message.test(e.message),
      args.join(' '),
    );
  }
});
