// Blocks near the tip can still be reorganised away. Models only read blocks at
// least `safetyDistance` below the tip, so what they write never has to be undone.
import type { EthereumRpc } from './ethereumRpc.ts';

/** Pure: the highest block considered final, or -1 when the chain is shorter than the distance. */
export function safeBlockFromTip(tip: number, safetyDistance: number): number {
  if (!Number.isSafeInteger(safetyDistance) || safetyDistance < 0) {
    throw new RangeError(`safety distance must be a non-negative integer, got ${safetyDistance}`);
  }
  return Math.max(tip - safetyDistance, -1);
}

export async function highestSafeBlock(
  rpc: EthereumRpc,
  safetyDistance: number,
  signal?: AbortSignal,
): Promise<number> {
  return safeBlockFromTip(await rpc.blockNumber(signal), safetyDistance);
}
