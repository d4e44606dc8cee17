// What the operator reads from the chains themselves, through their JSON-RPC endpoints (the
// URLs come from the operator's env, operatorConfig.ts `rpcUrls`): the safe tip, cached for a
// few seconds per chain; block timestamps, cached for good (a block below the safe tip does not
// change); and the first block of a UTC day, by bisection. A chain the operator has no URL for,
// or cannot reach, answers undefined: callers wait and say so.
import type { Logger } from 'pino';
import { EthereumRpc } from '../adapters/ethereum/ethereumRpc.ts';
import { JsonRpcClient } from '../adapters/ethereum/jsonRpcClient.ts';
import { lastSafeBlock } from '../dataplane/batches.ts';
import type { Chains } from '../dataplane/chains.ts';
import type { ChainReader } from '../controllers/modelschedule/modelSchedulePorts.ts';
import { dayStartSeconds, firstBlockAtOrAfter } from '../controllers/planning/blockSearch.ts';

/** A chain's tip is read at most this often per chain. */
const TIP_CACHE_MS = 2_000;
/** Block timestamps kept per chain (lag needs two per schedule per look). */
const MAX_CACHED_TIMESTAMPS = 10_000;

export function chainReader(rpcUrls: ReadonlyMap<string, string>, chains: Chains, log: Logger): ChainReader {
  const clients = new Map<string, EthereumRpc>();
  const tips = new Map<string, { at: number; value: number }>();
  const timestamps = new Map<string, Map<number, number>>();
  const rpcOf = (chainName: string): EthereumRpc | undefined => {
    const url = rpcUrls.get(chainName);
    if (!url || !chains.has(chainName)) return undefined;
    let rpc = clients.get(chainName);
    if (!rpc) {
      rpc = new EthereumRpc(new JsonRpcClient({ url, maxAttempts: 2, timeoutMs: 5_000, logger: log }));
      clients.set(chainName, rpc);
    }
    return rpc;
  };
  const timestampOf = async (chainName: string, rpc: EthereumRpc, block: number): Promise<number> => {
    let cache = timestamps.get(chainName);
    if (!cache) timestamps.set(chainName, (cache = new Map()));
    const hit = cache.get(block);
    if (hit !== undefined) return hit;
    const value = (await rpc.getBlockHeader(block)).timestamp;
    if (cache.size >= MAX_CACHED_TIMESTAMPS) cache.delete(cache.keys().next().value!);
    cache.set(block, value);
    return value;
  };
  const reader: ChainReader = {
    async lastSafeBlock(chainName) {
      const rpc = rpcOf(chainName);
      if (!rpc) return undefined;
      const hit = tips.get(chainName);
      if (hit && Date.now() - hit.at < TIP_CACHE_MS) return hit.value;
      try {
        const value = lastSafeBlock(await rpc.blockNumber(), chains.get(chainName)!.tipSafetyBlocks);
        tips.set(chainName, { at: Date.now(), value });
        return value;
      } catch (error) {
        log.warn({ chain: chainName, err: (error as Error).message }, 'could not read the chain tip');
        return hit?.value;
      }
    },
    async blockTime(chainName, block) {
      const rpc = rpcOf(chainName);
      if (!rpc) return undefined;
      try {
        return new Date((await timestampOf(chainName, rpc, block)) * 1000);
      } catch (error) {
        log.warn(
          { chain: chainName, block, err: (error as Error).message },
          'could not read a block timestamp',
        );
        return undefined;
      }
    },
    async firstBlockOfDay(chainName, dt) {
      const rpc = rpcOf(chainName);
      const head = await reader.lastSafeBlock(chainName);
      if (!rpc || head === undefined) return undefined;
      try {
        return await firstBlockAtOrAfter(dayStartSeconds(dt), head, (block) =>
          timestampOf(chainName, rpc, block),
        );
      } catch (error) {
        log.warn(
          { chain: chainName, dt, err: (error as Error).message },
          'could not find the first block of a day',
        );
        return undefined;
      }
    },
  };
  return reader;
}
