import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type ChainConfig,
  loadChains,
  parseChains,
  planChainBatches,
  requireChain,
  rpcUrlFor,
  withRpcClientOverrides,
} from '../../../dataplane/chains.ts';
import { HOSTED_PROVIDER_SETTINGS } from '../../../dataplane/rpcClientSettings.ts';
import { InvalidValueError } from '../../../dataplane/validNames.ts';

function chainEntry(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'testchain',
    chainId: 999,
    rpc: { env: 'TESTCHAIN_RPC_URL', secret: { name: 'rpc-testchain', key: 'url' } },
    expectedBlocksPerDay: 1000,
    batchSizes: [{ fromBlock: 0, batchSize: 100 }],
    tipSafetyBlocks: 5,
    ...overrides,
  };
}

describe('loadChains (chains/chains.json)', () => {
  const chains = loadChains();

  it('ships the local anvil chain and the production chains', () => {
    assert.deepEqual([...chains.keys()].sort(), ['base', 'ethereum', 'local', 'matic', 'op']);
    const local = requireChain(chains, 'local');
    assert.equal(local.chainId, 31337);
    assert.equal(local.rpc.env, 'ETH_RPC_URL');
    assert.deepEqual(local.batchSizes, [{ fromBlock: 0, batchSize: 100 }]);
  });

  const ids: [string, number][] = [
    ['ethereum', 1],
    ['op', 10],
    ['base', 8453],
    ['matic', 137],
  ];
  for (const [name, chainId] of ids) {
    it(`${name} has chain id ${chainId} and a valid schedule`, () => {
      const chain = requireChain(chains, name);
      assert.equal(chain.chainId, chainId);
      assert.ok(chain.expectedBlocksPerDay > 0);
      assert.equal(chain.batchSizes[0]!.fromBlock, 0);
    });
  }

  it('local keeps an unthrottled client; the hosted chains get the hosted-provider defaults', () => {
    assert.deepEqual(requireChain(chains, 'local').rpcClient, {
      batchSize: 100,
      concurrentRequests: 4,
      requestsPerSecond: 0,
      maxLogsBlockRange: 0,
    });
    for (const name of ['ethereum', 'op', 'base', 'matic']) {
      assert.deepEqual(requireChain(chains, name).rpcClient, HOSTED_PROVIDER_SETTINGS, name);
    }
  });

  it('drops documentation-only keys', () => {
    assert.equal('comment' in requireChain(chains, 'op'), false);
  });
});

describe('parseChains', () => {
  it('accepts a valid document', () => {
    const chains = parseChains({ chains: [chainEntry()] });
    assert.equal(requireChain(chains, 'testchain').tipSafetyBlocks, 5);
  });

  it('takes client settings, the rest from the hosted-provider defaults', () => {
    const chains = parseChains({
      chains: [chainEntry({ rpcClient: { batchSize: 10, maxLogsBlockRange: 100 } })],
    });
    assert.deepEqual(requireChain(chains, 'testchain').rpcClient, {
      ...HOSTED_PROVIDER_SETTINGS,
      batchSize: 10,
      maxLogsBlockRange: 100,
    });
  });

  const bad: [string, unknown, RegExp][] = [
    ['a non-document', [], /must be \{ "chains"/],
    [
      'a bad name',
      { chains: [chainEntry({ name: 'Bad-Name' })] },
      /chains\[0\] \(Bad-Name\): invalid chain name/,
    ],
    ['a path-like name', { chains: [chainEntry({ name: '../etc' })] }, /invalid chain name/],
    ['an unknown key', { chains: [chainEntry({ batchsize: 5 })] }, /unknown keys batchsize/],
    ['a negative chain id', { chains: [chainEntry({ chainId: -1 })] }, /chainId/],
    [
      'a zero client batch size',
      { chains: [chainEntry({ rpcClient: { batchSize: 0 } })] },
      /chains\[0\] \(testchain\): rpcClient.batchSize must be an integer from 1 to 1000/,
    ],
    [
      'an unknown client setting',
      { chains: [chainEntry({ rpcClient: { rps: 5 } })] },
      /testchain.*rpcClient: unknown keys rps/,
    ],
    ['zero blocks per day', { chains: [chainEntry({ expectedBlocksPerDay: 0 })] }, /must be positive/],
    [
      'a bad env var',
      { chains: [chainEntry({ rpc: { env: 'lower', secret: { name: 'x', key: 'y' } } })] },
      /rpc.env/,
    ],
    [
      'a bad secret name',
      { chains: [chainEntry({ rpc: { env: 'A', secret: { name: 'Bad_Name', key: 'y' } } })] },
      /rpc.secret.name/,
    ],
    ['a missing secret', { chains: [chainEntry({ rpc: { env: 'A' } })] }, /rpc must be/],
    [
      'a misaligned delimiter',
      {
        chains: [
          chainEntry({
            batchSizes: [
              { fromBlock: 0, batchSize: 100 },
              { fromBlock: 150, batchSize: 50 },
            ],
          }),
        ],
      },
      /testchain.*not on a boundary/,
    ],
    [
      'a duplicate name',
      { chains: [chainEntry(), chainEntry({ chainId: 5 })] },
      /duplicate chain name testchain/,
    ],
    [
      'a duplicate chain id',
      { chains: [chainEntry(), chainEntry({ name: 'other' })] },
      /chainId 999 is also testchain's/,
    ],
  ];
  for (const [name, document, message] of bad) {
    it(`refuses ${name}`, () => {
      assert.throws(
        () => parseChains(document),
        (error: Error) => {
          assert.ok(error instanceof InvalidValueError, `${error.name}: ${error.message}`);
          assert.match(error.message, message);
          return true;
        },
      );
    });
  }
});

describe('requireChain', () => {
  it('names the known chains when one is missing', () => {
    assert.throws(() => requireChain(loadChains(), 'nope'), /unknown chain "nope"; known: local, ethereum/);
  });
});

describe('withRpcClientOverrides', () => {
  it("puts a worker's settings over every chain's own, leaving the rest", () => {
    const chains = parseChains({
      chains: [chainEntry({ rpcClient: { batchSize: 100 } }), chainEntry({ name: 'other', chainId: 5 })],
    });
    const overridden = withRpcClientOverrides(chains, { requestsPerSecond: 5 });
    assert.deepEqual(requireChain(overridden, 'testchain').rpcClient, {
      ...HOSTED_PROVIDER_SETTINGS,
      batchSize: 100,
      requestsPerSecond: 5,
    });
    assert.deepEqual(requireChain(overridden, 'other').rpcClient, {
      ...HOSTED_PROVIDER_SETTINGS,
      requestsPerSecond: 5,
    });
    assert.equal(
      requireChain(chains, 'testchain').rpcClient.requestsPerSecond,
      25,
      'the original is untouched',
    );
    assert.equal(requireChain(overridden, 'testchain').tipSafetyBlocks, 5);
  });
});

describe('rpcUrlFor', () => {
  const chain = requireChain(parseChains({ chains: [chainEntry()] }), 'testchain');

  it('reads the chain env var', () => {
    assert.equal(rpcUrlFor(chain, { TESTCHAIN_RPC_URL: 'http://127.0.0.1:8545' }), 'http://127.0.0.1:8545');
  });

  it('says which var and which Secret when it is missing', () => {
    assert.throws(() => rpcUrlFor(chain, {}), /set TESTCHAIN_RPC_URL .*Secret rpc-testchain, key url/);
  });
});

describe('planChainBatches', () => {
  it('uses the chain schedule and its tip safety', () => {
    const chain: ChainConfig = requireChain(parseChains({ chains: [chainEntry()] }), 'testchain');
    const batches = planChainBatches(chain, { minBlock: 0, maxBlock: 400 }, 304);
    // tip 304 - safety 5 = 299: the batch 200-300 ends at 299 and is in; 300-400 is not.
    assert.deepEqual(
      batches.map((b) => [b.minBlock, b.maxBlock]),
      [
        [0, 100],
        [100, 200],
        [200, 300],
      ],
    );
  });
});
