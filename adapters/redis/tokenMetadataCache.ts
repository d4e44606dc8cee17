// The ABI/metadata cache shared by every worker: token decimals and symbols by chain
// and address. Metadata never changes for a deployed token, and every batch of
// erc20_balances needs it for the same few hundred tokens, so one eth_call per token
// per TTL across the whole fleet is the goal.
//
// Concurrent misses must not stampede the node: within a process, callers share one
// in-flight load per token; across processes, the first to `SET NX` a short lock
// loads, the others poll for the value for a bounded time and only then load anyway
// (the lock holder may have died).
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { CHAIN_NAME, followsNameRule } from '../../contract/names.ts';

export interface TokenMetadata {
  /** null when the token has no (working) `decimals()`. */
  decimals: number | null;
  /** null when the token has no (working) `symbol()`. */
  symbol: string | null;
}

/** Loads metadata for tokens nobody has cached; must return an entry for every address. */
export type TokenMetadataLoader = (addresses: readonly string[]) => Promise<Map<string, TokenMetadata>>;

export interface TokenMetadataCacheOptions {
  redis: Redis;
  /** Every key starts with it (tests use their own). Letters, digits, `:_-.` only. */
  keyPrefix: string;
  /** Lifetime of complete metadata. */
  ttlSeconds?: number;
  /** Lifetime of metadata with a missing field: a failed call may have been a bad node. */
  incompleteTtlSeconds?: number;
  /** How long a loader may hold the cross-worker lock. */
  lockTtlMs?: number;
  /** How long to wait for another worker's load before loading anyway. */
  lockWaitMs?: number;
  pollIntervalMs?: number;
}

export interface TokenMetadataCacheStats {
  hits: number;
  misses: number;
  /** Tokens this process loaded itself. */
  loaded: number;
  /** Tokens another worker (or another caller in this process) loaded while we waited. */
  waitedFor: number;
}

const KEY_PREFIX = /^[A-Za-z0-9:_.-]{1,100}$/;
const ADDRESS = /^0x[0-9a-f]{40}$/;

// Deletes the lock only if we still own it: a slow loader must not free another's lock.
const RELEASE_LOCK = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export class TokenMetadataCache {
  readonly stats: TokenMetadataCacheStats = { hits: 0, misses: 0, loaded: 0, waitedFor: 0 };
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #ttlSeconds: number;
  readonly #incompleteTtlSeconds: number;
  readonly #lockTtlMs: number;
  readonly #lockWaitMs: number;
  readonly #pollIntervalMs: number;
  readonly #inFlight = new Map<string, Promise<TokenMetadata>>();

  constructor(options: TokenMetadataCacheOptions) {
    if (!KEY_PREFIX.test(options.keyPrefix))
      throw new Error(`invalid token cache key prefix ${options.keyPrefix}`);
    this.#redis = options.redis;
    this.#prefix = options.keyPrefix;
    this.#ttlSeconds = options.ttlSeconds ?? 7 * 24 * 3600;
    this.#incompleteTtlSeconds = options.incompleteTtlSeconds ?? 3600;
    this.#lockTtlMs = options.lockTtlMs ?? 30_000;
    this.#lockWaitMs = options.lockWaitMs ?? 10_000;
    this.#pollIntervalMs = options.pollIntervalMs ?? 50;
  }

  valueKey(chain: string, address: string): string {
    return `${this.#prefix}token:${chain}:${address}`;
  }

  #lockKey(chain: string, address: string): string {
    return `${this.#prefix}token-lock:${chain}:${address}`;
  }

  /** Metadata for every address (lower-case 0x…), from the cache or through `load`. */
  async getMany(
    chain: string,
    addresses: readonly string[],
    load: TokenMetadataLoader,
  ): Promise<Map<string, TokenMetadata>> {
    if (!followsNameRule(CHAIN_NAME, chain)) throw new Error(`invalid chain name ${chain}`);
    const unique = [...new Set(addresses)];
    for (const address of unique) {
      if (!ADDRESS.test(address)) throw new Error(`invalid token address ${address}`);
    }
    const found = new Map<string, TokenMetadata>();
    if (unique.length === 0) return found;

    const cached = await this.#readMany(chain, unique);
    const missing: string[] = [];
    unique.forEach((address, i) => {
      const value = cached[i];
      if (value) {
        found.set(address, value);
        this.stats.hits++;
      } else {
        missing.push(address);
        this.stats.misses++;
      }
    });

    // Join loads already in flight in this process; start one shared load for the rest.
    const mine = missing.filter((address) => !this.#inFlight.has(this.#flightKey(chain, address)));
    if (mine.length > 0) {
      const shared = this.#loadAcrossWorkers(chain, mine, load);
      for (const address of mine) {
        const key = this.#flightKey(chain, address);
        const promise = shared.then((values) => values.get(address)!);
        this.#inFlight.set(key, promise);
        // Forget the flight once settled, whatever the outcome, so failures are retried later.
        promise.then(
          () => this.#inFlight.delete(key),
          () => this.#inFlight.delete(key),
        );
      }
    }
    const waited = missing.length - mine.length;
    this.stats.waitedFor += waited;
    const values = await Promise.all(
      missing.map((address) => this.#inFlight.get(this.#flightKey(chain, address))!),
    );
    missing.forEach((address, i) => found.set(address, values[i]!));
    return found;
  }

  #flightKey(chain: string, address: string): string {
    return `${chain}:${address}`;
  }

  async #readMany(chain: string, addresses: readonly string[]): Promise<(TokenMetadata | undefined)[]> {
    const raw = await this.#redis.mget(...addresses.map((address) => this.valueKey(chain, address)));
    return raw.map((text) => (text === null ? undefined : parseMetadata(text)));
  }

  async #loadAcrossWorkers(
    chain: string,
    addresses: readonly string[],
    load: TokenMetadataLoader,
  ): Promise<Map<string, TokenMetadata>> {
    const lockToken = randomBytes(8).toString('hex');
    const lockReplies = await this.#redis
      .multi(
        addresses.map((address) => [
          'set',
          this.#lockKey(chain, address),
          lockToken,
          'PX',
          this.#lockTtlMs,
          'NX',
        ]),
      )
      .exec();
    const locked = addresses.filter((_, i) => lockReplies?.[i]?.[1] === 'OK');
    const lockedByOthers = addresses.filter((_, i) => lockReplies?.[i]?.[1] !== 'OK');

    const results = new Map<string, TokenMetadata>();
    try {
      if (locked.length > 0) {
        const loaded = await this.#loadAndStore(chain, locked, load);
        for (const [address, value] of loaded) results.set(address, value);
      }
    } finally {
      if (locked.length > 0) await this.#releaseLocks(chain, locked, lockToken);
    }

    if (lockedByOthers.length > 0) {
      const deadline = Date.now() + this.#lockWaitMs;
      let waiting = lockedByOthers;
      while (waiting.length > 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, this.#pollIntervalMs));
        const values = await this.#readMany(chain, waiting);
        const stillWaiting: string[] = [];
        waiting.forEach((address, i) => {
          const value = values[i];
          if (value) {
            results.set(address, value);
            this.stats.waitedFor++;
          } else stillWaiting.push(address);
        });
        waiting = stillWaiting;
      }
      // The other worker did not deliver in time: load ourselves rather than fail the batch.
      if (waiting.length > 0) {
        const loaded = await this.#loadAndStore(chain, waiting, load);
        for (const [address, value] of loaded) results.set(address, value);
      }
    }
    return results;
  }

  async #loadAndStore(
    chain: string,
    addresses: readonly string[],
    load: TokenMetadataLoader,
  ): Promise<Map<string, TokenMetadata>> {
    const loaded = await load(addresses);
    const pipeline = this.#redis.pipeline();
    for (const address of addresses) {
      const value = loaded.get(address);
      if (!value) throw new Error(`token metadata loader returned nothing for ${address}`);
      const complete = value.decimals !== null && value.symbol !== null;
      pipeline.set(
        this.valueKey(chain, address),
        JSON.stringify(value),
        'EX',
        complete ? this.#ttlSeconds : this.#incompleteTtlSeconds,
      );
    }
    await pipeline.exec();
    this.stats.loaded += addresses.length;
    return loaded;
  }

  async #releaseLocks(chain: string, addresses: readonly string[], lockToken: string): Promise<void> {
    const pipeline = this.#redis.pipeline();
    for (const address of addresses) pipeline.eval(RELEASE_LOCK, 1, this.#lockKey(chain, address), lockToken);
    await pipeline.exec();
  }
}

/** A cached entry that does not parse is treated as a miss, never as metadata. */
function parseMetadata(text: string): TokenMetadata | undefined {
  try {
    const value = JSON.parse(text) as { decimals?: unknown; symbol?: unknown };
    const decimals = value.decimals;
    const symbol = value.symbol;
    const decimalsOk = decimals === null || (Number.isInteger(decimals) && (decimals as number) >= 0);
    const symbolOk = symbol === null || typeof symbol === 'string';
    return decimalsOk && symbolOk
      ? { decimals: decimals as number | null, symbol: symbol as string | null }
      : undefined;
  } catch {
    return undefined;
  }
}
