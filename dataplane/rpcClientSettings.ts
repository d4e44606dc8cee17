// How hard a worker may lean on a chain's JSON-RPC endpoint: plain data, one set per chain
// in chains/chains.json (`rpcClient`), overridable per worker (env) and per CLI run (flags).
// One table names every setting's spellings and limits, so the chain file, the worker's env,
// the CLI and the error messages that name a remedy can never disagree.
import { InvalidValueError } from './validNames.ts';

export interface RpcClientSettings {
  /** JSON-RPC calls per HTTP request; lowered for the run when the endpoint refuses a batch. */
  batchSize: number;
  /** HTTP requests in flight at once to the endpoint, per process. */
  concurrentRequests: number;
  /** JSON-RPC calls per second (each call of a batch counts); 0 = unlimited. */
  requestsPerSecond: number;
  /** Blocks per eth_getLogs query; 0 = a batch's whole range in one query. */
  maxLogsBlockRange: number;
}

export type RpcClientSettingName = keyof RpcClientSettings;

interface SettingDefinition {
  env: string;
  flag: string;
  min: number;
  max: number;
  integer: boolean;
}

export const RPC_CLIENT_SETTINGS: Readonly<Record<RpcClientSettingName, SettingDefinition>> = {
  batchSize: { env: 'WORKER_RPC_BATCH_SIZE', flag: '--rpc-batch-size', min: 1, max: 1_000, integer: true },
  concurrentRequests: {
    env: 'WORKER_RPC_CONCURRENT_REQUESTS',
    flag: '--rpc-concurrency',
    min: 1,
    max: 64,
    integer: true,
  },
  requestsPerSecond: {
    env: 'WORKER_RPC_REQUESTS_PER_SECOND',
    flag: '--rps',
    min: 0,
    max: 100_000,
    integer: false,
  },
  maxLogsBlockRange: {
    env: 'WORKER_RPC_MAX_LOGS_BLOCK_RANGE',
    flag: '--logs-block-range',
    min: 0,
    max: 10_000_000,
    integer: true,
  },
};

const SETTING_NAMES = Object.keys(RPC_CLIENT_SETTINGS) as RpcClientSettingName[];

/**
 * For a chain that says nothing: what a hosted provider's free or entry tier accepts
 * (batches of 50, a few requests at once, tens of calls per second, eth_getLogs over
 * ~1,000 blocks). The client only ever lowers batch size and log range from here.
 */
export const HOSTED_PROVIDER_SETTINGS: Readonly<RpcClientSettings> = {
  batchSize: 50,
  concurrentRequests: 4,
  requestsPerSecond: 25,
  maxLogsBlockRange: 1_000,
};

/** "batchSize (chains.json rpcClient.batchSize, WORKER_RPC_BATCH_SIZE, --rpc-batch-size)", for remedies. */
export function describeSetting(name: RpcClientSettingName): string {
  const { env, flag } = RPC_CLIENT_SETTINGS[name];
  return `${name} (chains.json rpcClient.${name}, ${env}, ${flag})`;
}

function rangeText(name: RpcClientSettingName): string {
  const { min, max, integer } = RPC_CLIENT_SETTINGS[name];
  return `${integer ? 'an integer' : 'a number'} from ${min} to ${max}`;
}

function isValid(name: RpcClientSettingName, value: unknown): value is number {
  const { min, max, integer } = RPC_CLIENT_SETTINGS[name];
  return (
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (!integer || Number.isInteger(value)) &&
    value >= min &&
    value <= max
  );
}

/** The chain file's `rpcClient` object (every key optional) over the hosted-provider defaults. */
export function parseRpcClientSettings(value: unknown): RpcClientSettings {
  if (value === undefined) return { ...HOSTED_PROVIDER_SETTINGS };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidValueError('rpcClient must be an object');
  }
  const entries = value as Record<string, unknown>;
  const unknownKeys = Object.keys(entries).filter(
    (key) => !SETTING_NAMES.includes(key as RpcClientSettingName),
  );
  if (unknownKeys.length > 0) {
    throw new InvalidValueError(
      `rpcClient: unknown keys ${unknownKeys.join(', ')} (known: ${SETTING_NAMES.join(', ')})`,
    );
  }
  const settings = { ...HOSTED_PROVIDER_SETTINGS };
  for (const name of SETTING_NAMES) {
    const setting = entries[name];
    if (setting === undefined) continue;
    if (!isValid(name, setting)) {
      throw new InvalidValueError(
        `rpcClient.${name} must be ${rangeText(name)}, not ${JSON.stringify(setting)}`,
      );
    }
    settings[name] = setting;
  }
  return settings;
}

/** One setting from text (an env var or a flag); `source` names it in the error. */
export function parseRpcClientSetting(name: RpcClientSettingName, text: string, source: string): number {
  const trimmed = text.trim();
  const value = /^[0-9]{1,9}(\.[0-9]{1,6})?$/.test(trimmed) ? Number(trimmed) : Number.NaN;
  if (!isValid(name, value)) {
    throw new InvalidValueError(`${source} must be ${rangeText(name)}, not ${JSON.stringify(text)}`);
  }
  return value;
}

/**
 * The settings given as text, by env var (`WORKER_RPC_BATCH_SIZE`) or by flag name without
 * its dashes (`rpc-batch-size`, as node:util parseArgs keys them); blank or absent = not given.
 */
export function parseRpcClientOverrides(
  spelling: 'env' | 'flag',
  values: Readonly<Record<string, unknown>>,
): Partial<RpcClientSettings> {
  const overrides: Partial<RpcClientSettings> = {};
  for (const name of SETTING_NAMES) {
    const source = RPC_CLIENT_SETTINGS[name][spelling];
    const text = values[spelling === 'flag' ? source.slice(2) : source];
    if (typeof text === 'string' && text.trim() !== '')
      overrides[name] = parseRpcClientSetting(name, text, source);
  }
  return overrides;
}

/** The settings a worker or a CLI run uses: the chain's, with any override on top. */
export function withOverrides(
  settings: Readonly<RpcClientSettings>,
  overrides: Readonly<Partial<RpcClientSettings>>,
): RpcClientSettings {
  const merged = { ...settings };
  for (const name of SETTING_NAMES) {
    const value = overrides[name];
    if (value !== undefined) merged[name] = value;
  }
  return merged;
}
