// Loads token decimals and symbols with eth_call. A token whose call reverts or answers
// something undecodable gets null for that field: plenty of real tokens lack one. Any
// other failure (the node's, not the token's) fails the load, so nothing wrong is cached.
import type { EthCallOutcome, EthereumRpc } from '../../adapters/ethereum/ethereumRpc.ts';
import { isExecutionFailure } from '../../adapters/ethereum/rpcErrors.ts';
import { decodeDecimalsResult, decodeSymbolResult, encodeDecimals, encodeSymbol } from '../abi/erc20Calls.ts';
import type { TokenMetadata, TokenMetadataLoader } from '../tokenMetadataSource.ts';

function decodedOrNull<T>(outcome: EthCallOutcome, decode: (data: string) => T): T | null {
  if (!outcome.ok) {
    // A node failure must never be cached as "this token has no symbol".
    if (!isExecutionFailure(outcome.error)) throw outcome.error;
    return null;
  }
  try {
    return decode(outcome.data);
  } catch {
    return null;
  }
}

/** Metadata as of `blockNumber` (a block where the tokens are known to exist). */
export function tokenMetadataLoader(
  rpc: EthereumRpc,
  blockNumber: number,
  signal?: AbortSignal,
): TokenMetadataLoader {
  return async (addresses) => {
    const calls = addresses.flatMap((to) => [
      { to, data: encodeDecimals() },
      { to, data: encodeSymbol() },
    ]);
    const outcomes = await rpc.callManySettled(calls, blockNumber, signal);
    const metadata = new Map<string, TokenMetadata>();
    addresses.forEach((address, i) => {
      metadata.set(address, {
        decimals: decodedOrNull(outcomes[2 * i]!, decodeDecimalsResult),
        symbol: decodedOrNull(outcomes[2 * i + 1]!, decodeSymbolResult),
      });
    });
    return metadata;
  };
}
