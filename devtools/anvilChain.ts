// Dev/test only: a chains document for one chain on a private anvil (chain id 31337), under a
// name and an RPC env var of the caller's choosing, with small batches and no safety distance,
// for tests and benchmarks that run the operator and workers against their own chain.
export function anvilChainsDocument(name: string, rpcEnv: string, batchSize: number): { chains: unknown[] } {
  return {
    chains: [
      {
        name,
        chainId: 31337,
        rpc: { env: rpcEnv, secret: { name: 'rpc-anvil', key: 'url' } },
        expectedBlocksPerDay: 86_400,
        batchSizes: [{ fromBlock: 0, batchSize }],
        tipSafetyBlocks: 0,
        rpcClient: { batchSize: 100, concurrentRequests: 4, requestsPerSecond: 0, maxLogsBlockRange: 0 },
        comment: 'a private anvil: a block a second when interval mining is on',
      },
    ],
  };
}
