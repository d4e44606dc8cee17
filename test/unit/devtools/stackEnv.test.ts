import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StackEnv } from '../../../devtools/stackEnv.ts';
import { chainDefaults, parseEnvFile } from '../../../devtools/stackEnv.ts';

test('parseEnvFile reads export lines and ignores the rest', () => {
  const parsed = parseEnvFile(
    ['# comment', 'export KUBECONFIG="/x/kubeconfig"', 'export REDIS_URL="redis://127.0.0.1:1"', 'junk'].join(
      '\n',
    ),
  );
  assert.deepEqual(parsed, { KUBECONFIG: '/x/kubeconfig', REDIS_URL: 'redis://127.0.0.1:1' });
});

const endpoints: StackEnv = {
  KUBECONFIG: '/s/.stack/kubeconfig',
  DATABASE_URL: 'postgres://127.0.0.1:1/postgres',
  REDIS_URL: 'redis://127.0.0.1:2',
  RABBITMQ_URL: 'amqp://127.0.0.1:3',
  RABBITMQ_MANAGEMENT_URL: 'http://127.0.0.1:4',
  KAFKA_BROKERS: '127.0.0.1:5',
  CLICKHOUSE_URL: 'http://127.0.0.1:6',
  GCS_ENDPOINT: 'http://127.0.0.1:7',
  ETH_RPC_URL: 'http://127.0.0.1:8',
  MODEL_RUNNER_STACK_DIR: '/s/.stack',
};

const withChainDefaults: StackEnv = {
  ...endpoints,
  LAKE_URL: '/s/.stack/lake/1a2b3c4d',
  CLICKHOUSE_DATABASE: 'model_runner_1a2b3c4d',
};

test('chainDefaults gives the lake and marker database of the chain', () => {
  assert.deepEqual(chainDefaults(withChainDefaults), {
    LAKE_URL: '/s/.stack/lake/1a2b3c4d',
    CLICKHOUSE_DATABASE: 'model_runner_1a2b3c4d',
  });
});

for (const missing of ['LAKE_URL', 'CLICKHOUSE_DATABASE'] as const) {
  test(`chainDefaults says to run stack-up again when the env file lacks ${missing}`, () => {
    const env = { ...withChainDefaults };
    delete env[missing];
    assert.throws(() => chainDefaults(env), /\/s\/\.stack\/env lacks .*run 'make stack-up' again/);
  });
}
