// Chain configuration: plain data in chains/chains.json, checked once at load so a bad
// entry (a misaligned batch-size delimiter, a name that would not be a safe path segment)
// fails at startup with a clear message instead of mid-run.
//
// The JSON-RPC endpoint is never in the file. A worker always reads it from an env var
// (`rpc.env`); locally that var comes from the shell (.stack/env sets ETH_RPC_URL for
// anvil), and in-cluster the operator fills the same var from the Secret key `rpc.secret`.
import chainsFile from '../chains/chains.json' with { type: 'json' };
import { type RpcClientSettings, parseRpcClientSettings, withOverrides } from './rpcClientSettings.ts';
import {
  type BatchSizeDelimiter,
  type BlockBatch,
  type BlockRange,
  batchContaining,
  planBatches,
  validateDelimiters,
} from './batches.ts';
import { InvalidValueError, assertChainName, assertNonNegativeInteger } from './validNames.ts';

/** Where a chain's JSON-RPC URL comes from. */
export interface RpcEndpointSource {
  /** The env var the worker reads (e.g. `ETH_RPC_URL`). */
  env: string;
  /** In-cluster: the Secret key the operator maps into that env var. */
  secret: { name: string; key: string };
}

export interface ChainConfig {
  name: string;
  chainId: number;
  rpc: RpcEndpointSource;
  /** For coverage monitoring: blocks a full day should hold. */
  expectedBlocksPerDay: number;
  /** The batch-size schedule (see batches.ts); boundaries never move. */
  batchSizes: BatchSizeDelimiter[];
  /** Blocks to stay behind the chain head, against reorgs. */
  tipSafetyBlocks: number;
  /** How hard to lean on the endpoint; hosted-provider defaults for what the file omits. */
  rpcClient: RpcClientSettings;
}

/** Chains by name. */
export type Chains = ReadonlyMap<string, ChainConfig>;

const ENV_VAR = /^[A-Z_][A-Z0-9_]{0,127}$/;
const SECRET_NAME = /^[a-z0-9]([-a-z0-9]{0,251}[a-z0-9])?$/;
const SECRET_KEY = /^[-._a-zA-Z0-9]{1,253}$/;
const CHAIN_KEYS = new Set([
  'name',
  'chainId',
  'rpc',
  'expectedBlocksPerDay',
  'batchSizes',
  'tipSafetyBlocks',
  'rpcClient',
  'comment',
]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseChain(entry: unknown, index: number): ChainConfig {
  const where = `chains[${index}]`;
  if (!isRecord(entry)) throw new InvalidValueError(`${where}: must be an object`);
  const label = typeof entry.name === 'string' ? `${where} (${entry.name})` : where;
  try {
    const unknownKeys = Object.keys(entry).filter((key) => !CHAIN_KEYS.has(key));
    if (unknownKeys.length > 0) throw new InvalidValueError(`unknown keys ${unknownKeys.join(', ')}`);
    assertChainName(entry.name);
    assertNonNegativeInteger('chainId', entry.chainId);
    assertNonNegativeInteger('expectedBlocksPerDay', entry.expectedBlocksPerDay);
    if (entry.expectedBlocksPerDay === 0)
      throw new InvalidValueError('expectedBlocksPerDay must be positive');
    assertNonNegativeInteger('tipSafetyBlocks', entry.tipSafetyBlocks);
    const rpc = entry.rpc;
    if (!isRecord(rpc) || !isRecord(rpc.secret))
      throw new InvalidValueError('rpc must be { env, secret: { name, key } }');
    if (typeof rpc.env !== 'string' || !ENV_VAR.test(rpc.env)) {
      throw new InvalidValueError(`rpc.env ${JSON.stringify(rpc.env)} is not an env var name`);
    }
    const { name: secretName, key: secretKey } = rpc.secret;
    if (typeof secretName !== 'string' || !SECRET_NAME.test(secretName)) {
      throw new InvalidValueError(`rpc.secret.name ${JSON.stringify(secretName)} is not a Secret name`);
    }
    if (typeof secretKey !== 'string' || !SECRET_KEY.test(secretKey)) {
      throw new InvalidValueError(`rpc.secret.key ${JSON.stringify(secretKey)} is not a Secret key`);
    }
    if (!Array.isArray(entry.batchSizes)) throw new InvalidValueError('batchSizes must be a list');
    const batchSizes = entry.batchSizes.map((delimiter: unknown) => {
      if (!isRecord(delimiter))
        throw new InvalidValueError('each batch size must be { fromBlock, batchSize }');
      return { fromBlock: delimiter.fromBlock, batchSize: delimiter.batchSize } as BatchSizeDelimiter;
    });
    validateDelimiters(batchSizes);
    const rpcClient = parseRpcClientSettings(entry.rpcClient);
    return {
      name: entry.name,
      chainId: entry.chainId,
      rpc: { env: rpc.env, secret: { name: secretName, key: secretKey } },
      expectedBlocksPerDay: entry.expectedBlocksPerDay,
      batchSizes,
      tipSafetyBlocks: entry.tipSafetyBlocks,
      rpcClient,
    };
  } catch (error) {
    if (error instanceof InvalidValueError) throw new InvalidValueError(`${label}: ${error.message}`);
    throw error;
  }
}

/** Validates a `{ chains: [...] }` document; names and chain ids must be unique. */
export function parseChains(document: unknown): Chains {
  if (!isRecord(document) || !Array.isArray(document.chains)) {
    throw new InvalidValueError('chain configuration must be { "chains": [ ... ] }');
  }
  const chains = new Map<string, ChainConfig>();
  const ids = new Map<number, string>();
  document.chains.forEach((entry: unknown, index: number) => {
    const chain = parseChain(entry, index);
    if (chains.has(chain.name))
      throw new InvalidValueError(`chains[${index}]: duplicate chain name ${chain.name}`);
    const other = ids.get(chain.chainId);
    if (other !== undefined) {
      throw new InvalidValueError(
        `chains[${index}] (${chain.name}): chainId ${chain.chainId} is also ${other}'s`,
      );
    }
    chains.set(chain.name, chain);
    ids.set(chain.chainId, chain.name);
  });
  return chains;
}

let bundled: Chains | undefined;

/** The chains shipped in chains/chains.json (validated on first use). */
export function loadChains(): Chains {
  bundled ??= parseChains(chainsFile);
  return bundled;
}

/** Every chain with a worker's or a CLI run's client settings on top of its own. */
export function withRpcClientOverrides(chains: Chains, overrides: Partial<RpcClientSettings>): Chains {
  return new Map(
    [...chains].map(([name, chain]) => [
      name,
      { ...chain, rpcClient: withOverrides(chain.rpcClient, overrides) },
    ]),
  );
}

/** The named chain, or an error listing the known ones. */
export function requireChain(chains: Chains, name: string): ChainConfig {
  const chain = chains.get(name);
  if (!chain) {
    throw new InvalidValueError(
      `unknown chain ${JSON.stringify(name)}; known: ${[...chains.keys()].join(', ')}`,
    );
  }
  return chain;
}

/** The chain's JSON-RPC URL from the environment (the env is passed in: no hidden globals). */
export function rpcUrlFor(chain: ChainConfig, env: Readonly<Record<string, string | undefined>>): string {
  const url = env[chain.rpc.env];
  if (!url) {
    throw new InvalidValueError(
      `chain ${chain.name}: set ${chain.rpc.env} to its JSON-RPC URL ` +
        `(in-cluster it comes from Secret ${chain.rpc.secret.name}, key ${chain.rpc.secret.key})`,
    );
  }
  return url;
}

/** Thrown for blocks that are not exactly one of the chain's batches (a malformed request). */
export class BatchAlignmentError extends InvalidValueError {
  override name = 'BatchAlignmentError';
}

/**
 * The one check that a range is one of the chain's own batches: batch boundaries keep lake
 * paths and markers deterministic, so nothing else is ever written or read.
 */
export function assertChainBatch(chain: ChainConfig, batch: BlockRange): void {
  const aligned = batchContaining(chain.batchSizes, batch.minBlock);
  if (aligned.minBlock !== batch.minBlock || aligned.maxBlock !== batch.maxBlock) {
    throw new BatchAlignmentError(
      `blocks ${batch.minBlock}-${batch.maxBlock - 1} are not a batch of ${chain.name} ` +
        `(the batch holding block ${batch.minBlock} is ${aligned.minBlock}-${aligned.maxBlock - 1})`,
    );
  }
}

/** {@link planBatches} with the chain's own batch sizes and tip safety distance. */
export function planChainBatches(chain: ChainConfig, range: BlockRange, tip?: number): BlockBatch[] {
  return planBatches(range, chain.batchSizes, { tip, safety: chain.tipSafetyBlocks });
}
