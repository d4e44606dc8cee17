// Where a reads model gets token decimals and symbols. Workers use the Redis cache
// shared by the fleet (adapters/redis/tokenMetadataCache.ts); a local CLI run without
// Redis loads them every batch through `uncachedTokenMetadata`.
import type { TokenMetadata, TokenMetadataLoader } from '../adapters/redis/tokenMetadataCache.ts';

export type { TokenMetadata, TokenMetadataLoader };

export interface TokenMetadataSource {
  getMany(
    chain: string,
    addresses: readonly string[],
    load: TokenMetadataLoader,
  ): Promise<Map<string, TokenMetadata>>;
}

/** No cache: every call loads. */
export const uncachedTokenMetadata: TokenMetadataSource = {
  async getMany(_chain, addresses, load) {
    return addresses.length === 0 ? new Map() : load([...new Set(addresses)]);
  },
};
