// erc20_balances (reads): for every (token, holder) touched by the batch's transfers,
// balanceOf at the batch's last block through eth_call, with the token's decimals and
// symbol from the shared metadata cache. The mint/burn side (the zero address) is not a
// holder. A balanceOf that reverts or answers garbage skips that pair and is counted;
// a node failure (state not available: balances need an archive node) fails the batch.
import { isExecutionFailure } from '../../adapters/ethereum/rpcErrors.ts';
import { AbiDecodeError } from '../abi/abiWords.ts';
import { decodeUint256Result, encodeBalanceOf } from '../abi/erc20Calls.ts';
import { readParquetSql } from '../../adapters/parquet/duckDbSession.ts';
import type { ParquetRow } from '../../dataplane/parquetSchema.ts';
import {
  ERC20_BALANCES_MANIFEST,
  ERC20_TRANSFERS_MANIFEST,
  manifestIdentity,
  outputRootPath,
} from '../manifests.ts';
import type { ModelDefinition, ModelOutput } from '../modelDefinition.ts';
import { erc20BalancesSchema } from './erc20BalancesSchema.ts';
import { tokenMetadataLoader } from './tokenMetadataLoader.ts';

export const ZERO_ADDRESS = '0x0000000000000000000000000000000000000000';

/** The transfers dataset this model reads. */
export const ERC20_TRANSFERS_ROOT_PATH = outputRootPath(ERC20_TRANSFERS_MANIFEST, 'erc20_transfers');

export const erc20BalancesModel: ModelDefinition = {
  ...manifestIdentity(ERC20_BALANCES_MANIFEST),
  datasets: [
    {
      name: 'erc20_balances',
      schema: erc20BalancesSchema,
      timestampColumn: 'block_timestamp',
      keyColumns: ['token_address', 'holder_address'],
    },
  ],

  async run(batch, context): Promise<ModelOutput> {
    const transfers = context.inputs.get(ERC20_TRANSFERS_ROOT_PATH);
    if (!transfers) throw new Error('erc20_balances needs its transfers input');
    const source = readParquetSql(transfers.localFiles);
    const pairs = (await context.session.query(
      `SELECT DISTINCT token_address, holder FROM (
         SELECT token_address, from_address AS holder FROM ${source}
         UNION ALL SELECT token_address, to_address AS holder FROM ${source}
       ) WHERE holder <> '${ZERO_ADDRESS}' ORDER BY token_address, holder`,
    )) as { token_address: string; holder: string }[];
    const counters = {
      balance_calls: pairs.length,
      skipped_failed_calls: 0,
      skipped_undecodable_balances: 0,
    };
    if (pairs.length === 0) return { datasets: { erc20_balances: { kind: 'rows', rows: [] } }, counters };

    const lastBlock = batch.maxBlock - 1;
    const { rpc, signal } = context;
    const header = await rpc.getBlockHeader(lastBlock, signal);
    const tokens = [...new Set(pairs.map((pair) => pair.token_address))];
    const metadata = await context.tokenMetadata.getMany(
      context.chain.name,
      tokens,
      tokenMetadataLoader(rpc, lastBlock, signal),
    );
    const balances = await rpc.callManySettled(
      pairs.map((pair) => ({ to: pair.token_address, data: encodeBalanceOf(pair.holder) })),
      lastBlock,
      signal,
    );
    const rows: ParquetRow[] = [];
    pairs.forEach((pair, i) => {
      const outcome = balances[i]!;
      if (!outcome.ok) {
        // The token refused (reverted): its answer, skip the pair. The node failing is not.
        if (!isExecutionFailure(outcome.error)) throw outcome.error;
        counters.skipped_failed_calls++;
        return;
      }
      let balance: string;
      try {
        balance = decodeUint256Result(outcome.data);
      } catch (error) {
        if (!(error instanceof AbiDecodeError)) throw error;
        counters.skipped_undecodable_balances++;
        return;
      }
      const token = metadata.get(pair.token_address);
      rows.push({
        block_number: lastBlock,
        block_timestamp: header.timestamp,
        token_address: pair.token_address,
        holder_address: pair.holder,
        balance,
        decimals: token?.decimals ?? null,
        symbol: token?.symbol ?? null,
      });
    });
    return { datasets: { erc20_balances: { kind: 'rows', rows } }, counters };
  },
};
