// The regular expressions inside the schemas' CEL rules, checked with tables of names,
// schedules and images. CEL's matches() uses RE2; every construct used here (classes,
// groups, bounded repeats, (?i) flags) means the same in JavaScript.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CronExpressionParser } from 'cron-parser';
import { CHAIN_NAME, MODEL_NAME, MODEL_VERSION, QUEUE_NAME, TOPIC_NAME } from '../../../contract/names.ts';
import {
  NAME_RULE_KEYWORD,
  applyContractNameRules,
  celNameValidation,
} from '../../../crds/contractNameRules.ts';
import { loadSchemaDocuments } from '../../../crds/generatedFiles.ts';
import { isJsonObject, type JsonSchema } from '../../../crds/schemaRefs.ts';

const documents = loadSchemaDocuments();

function at(file: string, path: string[]): JsonSchema {
  let node: unknown = documents.get(file);
  for (const part of path) node = isJsonObject(node) ? node[part] : undefined;
  assert.ok(isJsonObject(node), `${file} has no ${path.join('.')}`);
  return node;
}

/** The n-th `matches('...')` regex of the n-th rule at a schema node, as a JavaScript RegExp. */
function ruleRegex(schema: JsonSchema, ruleIndex = 0, matchIndex = 0): RegExp {
  const rules = schema['x-kubernetes-validations'];
  assert.ok(Array.isArray(rules) && isJsonObject(rules[ruleIndex]));
  const rule = String(rules[ruleIndex].rule);
  // A single-quoted literal, or a double-quoted one (the contract's rules) with \" and \\ escapes.
  const match = [...rule.matchAll(/matches\((?:'([^']*)'|"((?:[^"\\]|\\.)*)")\)/g)][matchIndex];
  const source = match?.[1] ?? match?.[2]?.replace(/\\(.)/g, '$1');
  assert.ok(source !== undefined, `no matches() in ${rule}`);
  // RE2's leading (?i) is JavaScript's i flag.
  return source.startsWith('(?i)') ? new RegExp(source.slice(4), 'i') : new RegExp(source);
}

const shared = (name: string) => at('shared.schema.json', ['$defs', name]);
const cronSchedule = at('modelschedule.schema.json', [
  'properties',
  'spec',
  'properties',
  'trigger',
  'properties',
  'schedule',
]);

interface PatternTable {
  name: string;
  regex: RegExp;
  matching: string[];
  notMatching: string[];
}

const tables: PatternTable[] = [
  {
    name: 'chain and model names (lower-case identifiers)',
    regex: ruleRegex(shared('chainName')),
    matching: ['ethereum', 'op', 'base', 'matic', 'erc20_transfers', 'a'],
    notMatching: [
      'Ethereum',
      '1inch',
      'eth-mainnet',
      'erc20__transfers',
      'erc20_',
      '_erc20',
      'erc20 transfers',
      '',
      'é',
    ],
  },
  {
    name: 'work queue names (the only queues workers consume)',
    regex: ruleRegex(shared('queueName')),
    matching: [
      'ethereum_realtime_reads',
      'op_backfill_nonreads',
      'arbitrum_one_realtime_nonreads',
      'backfill_1',
      'backfill_4',
    ],
    notMatching: [
      'backfill_5',
      'my_queue',
      'ethereum_realtime',
      'ethereum_nightly_reads',
      'ethereum_realtime_reads.dlq',
      'Ethereum_realtime_reads',
      '',
    ],
  },
  {
    name: 'Kafka topic names',
    regex: ruleRegex(shared('topicName')),
    matching: ['prod-ethereum-sink', 'dev_op_sink', 'sink'],
    notMatching: ['Prod-ethereum-sink', 'prod--sink', 'prod.ethereum.sink', '-prod', 'prod-', '9prod'],
  },
  {
    name: 'model versions',
    regex: ruleRegex(shared('modelVersion')),
    matching: ['v1', 'v12', 'v9999'],
    notMatching: ['1', 'v0', 'V1', 'v01', 'v10000', 'v1.2', 'latest'],
  },
  {
    name: 'cron schedules (5 fields or a macro)',
    regex: ruleRegex(cronSchedule),
    matching: [
      '*/10 * * * *',
      '0 2 * * *',
      '0 */6 * * *',
      '0 0 * * MON-FRI',
      '15,45 */2 1-15 JAN-JUN 1-5',
      '0 0 ? * sun',
      '5/15 * * * *',
      '0 12 1 */3 *',
      '59 23 31 12 7',
      '@hourly',
      '@daily',
      '@weekly',
      '@monthly',
      '@yearly',
      '@annually',
    ],
    notMatching: [
      '',
      '61 * * * *',
      '* * * *',
      '0 */5 * * * *',
      '0 24 * * *',
      '0 0 32 * *',
      '0 0 0 * *',
      '0 0 * 13 *',
      '0 0 * * 8',
      '*/0 * * * *',
      '@midnight',
      '@every 5m',
      'TZ=UTC 0 * * * *',
      'CRON_TZ=UTC 0 * * * *',
      'every day',
    ],
  },
  {
    name: 'container images',
    regex: ruleRegex(shared('containerImage')),
    matching: [
      'ghcr.io/example/model-runner-worker:0.1.0',
      'busybox',
      'registry.example.com:5000/team/worker:latest',
      `localhost:5000/worker@sha256:${'a'.repeat(64)}`,
    ],
    notMatching: [
      'Not An Image',
      'ghcr.io/Example/worker',
      'worker:',
      'worker:tag with space',
      'worker@sha256:abc',
    ],
  },
  {
    name: 'environment variable names that must come from a Secret',
    regex: ruleRegex(shared('envVar'), 1),
    matching: [
      'DB_PASSWORD',
      'api_key',
      'GITHUB_TOKEN',
      'AWS_SECRET_ACCESS_KEY',
      'PRIVATE_KEY',
      'ACCESSKEY',
      'GCS_CREDENTIALS',
    ],
    notMatching: ['LOG_LEVEL', 'RPC_TIMEOUT_MS', 'CHAIN', 'KEYSPACE', 'PREFETCH'],
  },
  {
    name: 'URLs with a password in them',
    regex: ruleRegex(shared('envVar'), 2),
    matching: [
      'amqp://guest:guest@127.0.0.1:5672',
      'postgres://user:secret@db:5432/door',
      'http://default:x@ch:8123',
    ],
    notMatching: ['http://127.0.0.1:8545', 'https://rpc.example.com/v1', 'kafka-0:9092,kafka-1:9092'],
  },
  {
    name: 'label keys',
    regex: ruleRegex(shared('labels'), 0),
    matching: ['app', 'app.kubernetes.io/part-of', 'modelrunner.io/lane', 'Team_Name'],
    notMatching: ['-app', 'app/', 'Example.com/app', 'a b', 'app.kubernetes.io/'],
  },
];

for (const table of tables) {
  describe(table.name, () => {
    for (const value of table.matching) {
      test(`matches ${JSON.stringify(value)}`, () => assert.ok(table.regex.test(value)));
    }
    for (const value of table.notMatching) {
      test(`does not match ${JSON.stringify(value)}`, () => assert.ok(!table.regex.test(value)));
    }
  });
}

describe('every cron schedule the schema accepts is one the scheduler can parse', () => {
  const accepted = tables.find((table) => table.name.startsWith('cron'))?.matching ?? [];
  for (const schedule of accepted) {
    test(schedule, () => {
      const next = CronExpressionParser.parse(schedule, { tz: 'UTC' }).next();
      assert.ok(next.getTime() > 0);
    });
  }
});

describe('the schemas take their name rules from the contract (admission, operator and workers agree)', () => {
  for (const [definition, rule] of [
    ['chainName', CHAIN_NAME],
    ['modelName', MODEL_NAME],
    ['modelVersion', MODEL_VERSION],
    ['queueName', QUEUE_NAME],
    ['topicName', TOPIC_NAME],
  ] as const) {
    test(`${definition}: ${rule.what}`, () => {
      assert.equal(ruleRegex(shared(definition)).source, rule.pattern.source);
      assert.equal(shared(definition).maxLength, rule.maxLength);
      assert.deepEqual(shared(definition)['x-kubernetes-validations'], [celNameValidation(rule)]);
    });
  }
  test('a marker naming no contract rule is refused', () => {
    const documents = new Map([
      ['x.json', { $defs: { bad: { type: 'string', [NAME_RULE_KEYWORD]: 'nope' } } }],
    ]);
    assert.throws(() => applyContractNameRules(documents), /names no contract rule/);
  });
});
