// The bench's heavy chain profile: blocks near mainnet's shape. Each block holds 150
// transactions from ten senders and 400 logs: plain ETH transfers (legacy, type 0), token
// transfers (2 logs each), swaps with a few hundred bytes of calldata (6 Transfers, a Swap
// with five data words and a Sync), reverted calls (status 0, no logs) and a contract
// creation (a receipt with a contract address).
import { rpc, rpcBatch } from './benchRpc.ts';
import { compileContract } from './solidity.ts';

const MARKET_SOURCE = `// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;
contract MarketSim {
    event Transfer(address indexed from, address indexed to, uint256 value);
    event Swap(address indexed sender, address indexed recipient, int256 amount0, int256 amount1,
        uint160 sqrtPriceX96, uint128 liquidity, int24 tick);
    event Sync(uint112 reserve0, uint112 reserve1);

    function holder(uint256 seed) internal pure returns (address) {
        return address(uint160(uint256(keccak256(abi.encode(seed)))));
    }

    /// A token transfer and its fee hop: two Transfer logs.
    function transferPair(uint256 seed) external {
        emit Transfer(holder(seed), holder(seed + 1), seed * 1e12 + 7);
        emit Transfer(holder(seed + 1), holder(seed + 2), seed % 1000);
    }

    /// A swap along a route (calldata only): six Transfers, a Swap and a Sync.
    function swap(uint256 seed, bytes calldata route) external {
        for (uint256 i = 0; i < 6; i++) emit Transfer(holder(seed + i), holder(seed + i + 1), seed * 1e15 + i);
        emit Swap(msg.sender, holder(seed), int256(seed) * 1e9, -int256(seed) * 1e6,
            uint160(seed << 80), uint128(seed * 1e18), int24(int256(seed % 800000) - 400000));
        emit Sync(uint112(seed * 1e15), uint112(route.length * 3e12));
    }

    function fail(uint256 seed) external pure {
        require(seed == 0, "MarketSim: slippage");
    }
}`;

/** A minimal contract's init code: deploys a runtime that returns 42. */
const TINY_CONTRACT_INIT = '0x600a600c600039600a6000f3602a60005260206000f3';

export const HEAVY_BLOCK = {
  ethTransfers: 35,
  tokenTransfers: 80,
  swaps: 30,
  reverted: 4,
  creations: 1,
  logsPerTokenTransfer: 2,
  logsPerSwap: 8,
} as const;
export const HEAVY_TXS_PER_BLOCK =
  HEAVY_BLOCK.ethTransfers +
  HEAVY_BLOCK.tokenTransfers +
  HEAVY_BLOCK.swaps +
  HEAVY_BLOCK.reverted +
  HEAVY_BLOCK.creations;
export const HEAVY_LOGS_PER_BLOCK =
  HEAVY_BLOCK.tokenTransfers * HEAVY_BLOCK.logsPerTokenTransfer + HEAVY_BLOCK.swaps * HEAVY_BLOCK.logsPerSwap;

interface Compiled {
  bytecode: string;
  selectors: { transferPair: string; swap: string; fail: string };
}

function compileMarket(): Compiled {
  const signatures = ['transferPair(uint256)', 'swap(uint256,bytes)', 'fail(uint256)'] as const;
  const { bytecode, selectors } = compileContract(MARKET_SOURCE, 'MarketSim', signatures);
  return {
    bytecode,
    selectors: {
      transferPair: selectors[signatures[0]]!,
      swap: selectors[signatures[1]]!,
      fail: selectors[signatures[2]]!,
    },
  };
}

function word(value: number): string {
  return value.toString(16).padStart(64, '0');
}

function quantity(value: number): string {
  return `0x${value.toString(16)}`;
}

/** ABI `swap(seed, route)` with a route of `routeBytes` pseudo-random bytes. */
function swapCalldata(selector: string, seed: number, routeBytes: number): string {
  let route = '';
  for (let i = 0; route.length < routeBytes * 2; i++) route += word((seed * 2_654_435_761 + i) >>> 0);
  route = route.slice(0, routeBytes * 2).padEnd(Math.ceil(routeBytes / 32) * 64, '0');
  return `0x${selector}${word(seed)}${word(64)}${word(routeBytes)}${route}`;
}

export interface HeavyChain {
  tip: number;
  /** The first block of the filled range (blocks before it hold the deployment). */
  firstBlock: number;
  transactions: number;
  logs: number;
  seconds: number;
}

/** Deploys MarketSim, then mines `blocks` heavy blocks (see the top of this file). */
export async function fillHeavyChain(url: string, blocks: number): Promise<HeavyChain> {
  const started = performance.now();
  const { bytecode, selectors } = compileMarket();
  const senders = await rpc<string[]>(url, 'eth_accounts');
  if (senders.length < 10)
    throw new Error(`anvil has ${senders.length} accounts, the heavy profile needs 10`);
  const nonces = await rpcBatch<string>(
    url,
    senders.map((sender) => ({ method: 'eth_getTransactionCount', params: [sender, 'pending'] })),
  ).then((answers) => answers.map(Number));
  const fees = { maxFeePerGas: '0x174876e800', maxPriorityFeePerGas: '0x3b9aca00' }; // 100 gwei, 1 gwei
  let turn = 0;
  const nextSender = (): { from: string; nonce: string } => {
    const index = turn++ % senders.length;
    return { from: senders[index]!, nonce: quantity(nonces[index]!++) };
  };
  const [deployHash] = await rpcBatch<string>(url, [
    {
      method: 'eth_sendTransaction',
      params: [{ ...nextSender(), data: bytecode, gas: '0x200000', ...fees }],
    },
  ]);
  await rpc(url, 'evm_mine');
  const deployed = await rpc<{ contractAddress: string; status: string }>(url, 'eth_getTransactionReceipt', [
    deployHash,
  ]);
  if (deployed.status !== '0x1') throw new Error('MarketSim deployment failed');
  const market = deployed.contractAddress;
  const firstBlock = Number(await rpc<string>(url, 'eth_blockNumber')) + 1;

  let transactions = 0;
  for (let block = 0; block < blocks; block++) {
    const calls: { method: string; params: unknown[] }[] = [];
    const send = (tx: Record<string, unknown>) =>
      calls.push({ method: 'eth_sendTransaction', params: [{ ...nextSender(), ...tx }] });
    const seed = (i: number) => block * 1_000 + i + 1;
    for (let i = 0; i < HEAVY_BLOCK.ethTransfers; i++) {
      send({
        to: senders[(i + 3) % senders.length],
        value: quantity(seed(i) * 1e9),
        gas: '0x5208',
        gasPrice: '0x174876e800',
      });
    }
    for (let i = 0; i < HEAVY_BLOCK.tokenTransfers; i++) {
      send({ to: market, data: `0x${selectors.transferPair}${word(seed(i))}`, gas: '0x186a0', ...fees });
    }
    for (let i = 0; i < HEAVY_BLOCK.swaps; i++) {
      const calldata = swapCalldata(selectors.swap, seed(i), 200 + ((i * 37) % 400));
      send({ to: market, data: calldata, gas: '0x61a80', ...fees });
    }
    for (let i = 0; i < HEAVY_BLOCK.reverted; i++) {
      send({ to: market, data: `0x${selectors.fail}${word(seed(i))}`, gas: '0xc350', ...fees });
    }
    for (let i = 0; i < HEAVY_BLOCK.creations; i++) {
      send({ data: TINY_CONTRACT_INIT, gas: '0x30d40', ...fees });
    }
    await rpcBatch(url, calls);
    await rpc(url, 'evm_mine');
    transactions += calls.length;
  }
  const tip = Number(await rpc<string>(url, 'eth_blockNumber'));
  const last = await rpc<{ transactions: string[] }>(url, 'eth_getBlockByNumber', [quantity(tip), false]);
  if (last.transactions.length !== HEAVY_TXS_PER_BLOCK)
    throw new Error(
      `block ${tip} holds ${last.transactions.length} transactions, expected ${HEAVY_TXS_PER_BLOCK}`,
    );
  const logs = await rpc<unknown[]>(url, 'eth_getLogs', [
    { fromBlock: quantity(tip), toBlock: quantity(tip) },
  ]);
  if (logs.length !== HEAVY_LOGS_PER_BLOCK)
    throw new Error(`block ${tip} holds ${logs.length} logs, expected ${HEAVY_LOGS_PER_BLOCK}`);
  return {
    tip,
    firstBlock,
    transactions,
    logs: blocks * HEAVY_LOGS_PER_BLOCK,
    seconds: (performance.now() - started) / 1000,
  };
}
