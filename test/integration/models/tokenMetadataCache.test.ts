// The token metadata cache on the stack's Redis: shared by workers, no stampede on
// concurrent misses, TTLs, and recovery from bad entries, failed loads and dead lock holders.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import IORedis from 'ioredis';
import {
  TokenMetadataCache,
  type TokenMetadata,
  type TokenMetadataLoader,
} from '../../../adapters/redis/tokenMetadataCache.ts';
import { uniqueName } from '../../support/names.ts';
import { stackEnv } from '../../../devtools/stackEnv.ts';

const TOKEN_A = `0x${'a1'.repeat(20)}`;
const TOKEN_B = `0x${'b2'.repeat(20)}`;
const TOKEN_C = `0x${'c3'.repeat(20)}`;

/** A loader that counts what it was asked for and answers after a pause (so misses overlap). */
function countingLoader(delayMs = 50): TokenMetadataLoader & { asked: string[] } {
  const asked: string[] = [];
  const load = async (addresses: readonly string[]): Promise<Map<string, TokenMetadata>> => {
    asked.push(...addresses);
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    return new Map(
      addresses.map((address) => [
        address,
        address === TOKEN_C
          ? { decimals: null, symbol: null }
          : { decimals: 18, symbol: `T${address.slice(2, 4)}` },
      ]),
    );
  };
  return Object.assign(load, { asked });
}

describe('TokenMetadataCache on Redis', () => {
  let redis: IORedis.Redis;
  let redis2: IORedis.Redis;
  const prefixes: string[] = [];

  before(() => {
    redis = new IORedis.Redis(stackEnv().REDIS_URL);
    redis2 = new IORedis.Redis(stackEnv().REDIS_URL);
  });

  after(async () => {
    for (const prefix of prefixes) {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
    }
    redis.disconnect();
    redis2.disconnect();
  });

  function freshPrefix(): string {
    const prefix = `${uniqueName('test-token-cache')}:`;
    prefixes.push(prefix);
    return prefix;
  }

  it('concurrent misses in two workers and within one load each token once', async () => {
    const keyPrefix = freshPrefix();
    const workerA = new TokenMetadataCache({ redis, keyPrefix });
    const workerB = new TokenMetadataCache({ redis: redis2, keyPrefix });
    const loaderA = countingLoader();
    const loaderB = countingLoader();
    const results = await Promise.all([
      workerA.getMany('local', [TOKEN_A, TOKEN_B], loaderA),
      workerA.getMany('local', [TOKEN_B, TOKEN_A], loaderA),
      workerB.getMany('local', [TOKEN_A, TOKEN_B, TOKEN_A], loaderB),
    ]);
    const asked = [...loaderA.asked, ...loaderB.asked].sort();
    assert.deepEqual(asked, [TOKEN_A, TOKEN_B].sort(), 'one load per token across both workers');
    for (const result of results) {
      assert.deepEqual(result.get(TOKEN_A), { decimals: 18, symbol: 'Ta1' });
      assert.deepEqual(result.get(TOKEN_B), { decimals: 18, symbol: 'Tb2' });
    }
    const again = countingLoader();
    assert.deepEqual((await workerB.getMany('local', [TOKEN_A], again)).get(TOKEN_A), {
      decimals: 18,
      symbol: 'Ta1',
    });
    assert.deepEqual(again.asked, [], 'a later call is a hit');
    assert.equal(await redis.exists(`${keyPrefix}token-lock:local:${TOKEN_A}`), 0, 'locks are released');
  });

  it('keeps complete metadata long and incomplete metadata short', async () => {
    const cache = new TokenMetadataCache({
      redis,
      keyPrefix: freshPrefix(),
      ttlSeconds: 5_000,
      incompleteTtlSeconds: 60,
    });
    await cache.getMany('local', [TOKEN_A, TOKEN_C], countingLoader(0));
    const complete = await redis.ttl(cache.valueKey('local', TOKEN_A));
    const incomplete = await redis.ttl(cache.valueKey('local', TOKEN_C));
    assert.ok(complete > 4_000 && complete <= 5_000, `complete ttl ${complete}`);
    assert.ok(incomplete > 0 && incomplete <= 60, `incomplete ttl ${incomplete}`);
    assert.deepEqual(JSON.parse((await redis.get(cache.valueKey('local', TOKEN_C)))!), {
      decimals: null,
      symbol: null,
    });
  });

  it('keys are per chain: the same address on another chain is another token', async () => {
    const cache = new TokenMetadataCache({ redis, keyPrefix: freshPrefix() });
    await cache.getMany('local', [TOKEN_A], countingLoader(0));
    const loader = countingLoader(0);
    await cache.getMany('ethereum', [TOKEN_A], loader);
    assert.deepEqual(loader.asked, [TOKEN_A]);
  });

  it('an entry that does not parse is a miss and gets replaced', async () => {
    const cache = new TokenMetadataCache({ redis, keyPrefix: freshPrefix() });
    await redis.set(cache.valueKey('local', TOKEN_A), '{"decimals":"eighteen"}');
    const loader = countingLoader(0);
    const result = await cache.getMany('local', [TOKEN_A], loader);
    assert.deepEqual(loader.asked, [TOKEN_A]);
    assert.deepEqual(result.get(TOKEN_A), { decimals: 18, symbol: 'Ta1' });
    assert.deepEqual(JSON.parse((await redis.get(cache.valueKey('local', TOKEN_A)))!), {
      decimals: 18,
      symbol: 'Ta1',
    });
  });

  it('a failed load caches nothing, releases its lock, and the next call loads again', async () => {
    const keyPrefix = freshPrefix();
    const cache = new TokenMetadataCache({ redis, keyPrefix });
    await assert.rejects(
      cache.getMany('local', [TOKEN_B], async () => {
        throw new Error('node down');
      }),
      /node down/,
    );
    assert.equal(await redis.exists(cache.valueKey('local', TOKEN_B)), 0);
    assert.equal(await redis.exists(`${keyPrefix}token-lock:local:${TOKEN_B}`), 0);
    const loader = countingLoader(0);
    assert.deepEqual((await cache.getMany('local', [TOKEN_B], loader)).get(TOKEN_B), {
      decimals: 18,
      symbol: 'Tb2',
    });
    assert.deepEqual(loader.asked, [TOKEN_B]);
  });

  it('a lock left by a dead worker delays the load but does not block it', async () => {
    const keyPrefix = freshPrefix();
    await redis.set(`${keyPrefix}token-lock:local:${TOKEN_A}`, 'dead-worker', 'PX', 60_000);
    const cache = new TokenMetadataCache({ redis, keyPrefix, lockWaitMs: 150, pollIntervalMs: 20 });
    const loader = countingLoader(0);
    const result = await cache.getMany('local', [TOKEN_A, TOKEN_B], loader);
    assert.deepEqual(result.get(TOKEN_A), { decimals: 18, symbol: 'Ta1' });
    assert.deepEqual(loader.asked.sort(), [TOKEN_A, TOKEN_B].sort());
    assert.equal(
      await redis.get(`${keyPrefix}token-lock:local:${TOKEN_A}`),
      'dead-worker',
      "another's lock is never deleted",
    );
  });

  it('refuses names that are not a chain, an address or a key prefix', async () => {
    const cache = new TokenMetadataCache({ redis, keyPrefix: freshPrefix() });
    await assert.rejects(cache.getMany('Local Chain', [TOKEN_A], countingLoader(0)), /invalid chain name/);
    await assert.rejects(cache.getMany('local', ['0xABC'], countingLoader(0)), /invalid token address/);
    await assert.rejects(
      cache.getMany('local', [TOKEN_A.toUpperCase().replace('0X', '0x')], countingLoader(0)),
      /invalid token address/,
    );
    assert.throws(
      () => new TokenMetadataCache({ redis, keyPrefix: 'bad prefix*' }),
      /invalid token cache key prefix/,
    );
  });
});
