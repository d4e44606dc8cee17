// The chains the bench measures ingestion on, each filled into a private anvil:
// - light: 2,000 blocks of 5 transactions and 48 Transfer logs (the bench's first profile);
// - heavy: 1,000 blocks near mainnet's shape, 150 transactions and 400 logs each
//   (bench/heavyChain.ts), so the figures say what a real chain costs.
import { fillChain } from './benchChain.ts';
import { HEAVY_BLOCK, HEAVY_LOGS_PER_BLOCK, HEAVY_TXS_PER_BLOCK, fillHeavyChain } from './heavyChain.ts';

export interface FilledProfile {
  seconds: number;
  /** ERC-20 Transfer logs in the measured range: the rows erc20_transfers must write. */
  expectedTransfers: number;
}

export interface ChainProfile {
  name: 'light' | 'heavy';
  description: string;
  /** The measured blocks, [minBlock, maxBlock): every batch size divides it. */
  range: { minBlock: number; maxBlock: number };
  fill(url: string): Promise<FilledProfile>;
}

const LIGHT = { blocks: 2_000, sprayTxsPerBlock: 4, logsPerTx: 12, tokens: 3 };
const HEAVY_BLOCKS = 1_000;
/** Transfer logs of a heavy block: two per token transfer, six per swap. */
const HEAVY_TRANSFERS_PER_BLOCK = HEAVY_BLOCK.tokenTransfers * 2 + HEAVY_BLOCK.swaps * 6;

export const CHAIN_PROFILES: readonly ChainProfile[] = [
  {
    name: 'light',
    description: `${LIGHT.blocks.toLocaleString('en-US')} blocks of ${LIGHT.sprayTxsPerBlock + 1} transactions and ${LIGHT.sprayTxsPerBlock * LIGHT.logsPerTx} logs`,
    range: { minBlock: 0, maxBlock: LIGHT.blocks },
    async fill(url) {
      const filled = await fillChain(url, LIGHT);
      // The deployments sit in block 1, the filled blocks from 2.
      return {
        seconds: filled.seconds,
        expectedTransfers: (LIGHT.blocks - 2) * LIGHT.sprayTxsPerBlock * LIGHT.logsPerTx,
      };
    },
  },
  {
    name: 'heavy',
    description: `${HEAVY_BLOCKS.toLocaleString('en-US')} blocks of ${HEAVY_TXS_PER_BLOCK} transactions and ${HEAVY_LOGS_PER_BLOCK} logs`,
    range: { minBlock: 0, maxBlock: HEAVY_BLOCKS },
    async fill(url) {
      const filled = await fillHeavyChain(url, HEAVY_BLOCKS);
      const heavyInRange = HEAVY_BLOCKS - filled.firstBlock;
      return { seconds: filled.seconds, expectedTransfers: heavyInRange * HEAVY_TRANSFERS_PER_BLOCK };
    },
  },
];
