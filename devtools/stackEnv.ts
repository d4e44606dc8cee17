// Reads the endpoints that `make stack-up` wrote to .stack/env, so tests and
// scripts find the local stack without the caller sourcing anything.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface StackEnv {
  KUBECONFIG: string;
  DATABASE_URL: string;
  REDIS_URL: string;
  RABBITMQ_URL: string;
  RABBITMQ_MANAGEMENT_URL: string;
  KAFKA_BROKERS: string;
  CLICKHOUSE_URL: string;
  GCS_ENDPOINT: string;
  ETH_RPC_URL: string;
  MODEL_RUNNER_STACK_DIR: string;
  /**
   * The lake (a folder under .stack/) and the marker database of anvil's current chain: the
   * defaults of the deployed operator, its workers and the CLI. Env files written before they
   * existed lack them: read them with `chainDefaults()`, which says what to do then.
   */
  LAKE_URL?: string;
  CLICKHOUSE_DATABASE?: string;
}

const REQUIRED_KEYS: (keyof StackEnv)[] = [
  'KUBECONFIG',
  'DATABASE_URL',
  'REDIS_URL',
  'RABBITMQ_URL',
  'RABBITMQ_MANAGEMENT_URL',
  'KAFKA_BROKERS',
  'CLICKHOUSE_URL',
  'GCS_ENDPOINT',
  'ETH_RPC_URL',
  'MODEL_RUNNER_STACK_DIR',
];

export const repoRoot = resolve(import.meta.dirname, '..');

/** Parses `export KEY="value"` lines; anything else is ignored. */
export function parseEnvFile(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^export ([A-Z_][A-Z0-9_]*)="([^"]*)"$/.exec(line.trim());
    if (match) values[match[1]!] = match[2]!;
  }
  return values;
}

let cached: StackEnv | undefined;

/** The running stack's endpoints. A missing stack is an error, never a skip. */
export function stackEnv(): StackEnv {
  if (cached) return cached;
  const stackDir = process.env.MODEL_RUNNER_STACK_DIR ?? join(repoRoot, '.stack');
  const file = join(stackDir, 'env');
  if (!existsSync(file)) {
    throw new Error(`the local stack is not running (${file} is missing): run 'make stack-up'`);
  }
  const values = parseEnvFile(readFileSync(file, 'utf8'));
  const missing = REQUIRED_KEYS.filter((key) => !values[key]);
  if (missing.length > 0) throw new Error(`${file} lacks ${missing.join(', ')}: run 'make stack-up' again`);
  cached = values as unknown as StackEnv;
  return cached;
}

/** LAKE_URL and CLICKHOUSE_DATABASE of the stack; an error when its env file predates them. */
export function chainDefaults(env: StackEnv = stackEnv()): { LAKE_URL: string; CLICKHOUSE_DATABASE: string } {
  const { LAKE_URL, CLICKHOUSE_DATABASE } = env;
  if (!LAKE_URL || !CLICKHOUSE_DATABASE) {
    throw new Error(
      `${env.MODEL_RUNNER_STACK_DIR}/env lacks LAKE_URL or CLICKHOUSE_DATABASE: run 'make stack-up' again`,
    );
  }
  return { LAKE_URL, CLICKHOUSE_DATABASE };
}
