// The chain's highest safe block, from the node's tip and the chain's safety distance; the
// rule itself is the data plane's (lastSafeBlock), so the worker and the planner agree.
import { lastSafeBlock } from '../../dataplane/batches.ts';
import type { EthereumRpc } from './ethereumRpc.ts';

export async function highestSafeBlock(
  rpc: EthereumRpc,
  safetyDistance: number,
  signal?: AbortSignal,
): Promise<number> {
  return lastSafeBlock(await rpc.blockNumber(signal), safetyDistance);
}
