// The peer tool: cryo (crates.io cryo_cli 0.3.2, built once by bench/install-cryo.sh)
// ingesting the same blocks into parquet, with its defaults: blocks, transactions (whose
// default columns gas_used and success come from receipts, eth_getBlockReceipts per block) and
// logs (eth_getLogs), 4 chunks at a time, `--chunk-size` = the batch size.
import { join } from 'node:path';
import { type ProcessCost, runMeasured } from './measuredProcess.ts';

export const CRYO = join(process.env.HOME ?? '/root', '.cache/model-runner/cryo/bin/cryo');

export async function runCryo(
  rpcUrl: string,
  range: { minBlock: number; maxBlock: number },
  batchSize: number,
  outputDir: string,
  timeoutMs: number,
): Promise<ProcessCost> {
  const cost = await runMeasured(
    CRYO,
    [
      'blocks',
      'transactions',
      'logs',
      '--rpc',
      rpcUrl,
      '--blocks',
      `${range.minBlock}:${range.maxBlock}`,
      '--chunk-size',
      String(batchSize),
      '--output-dir',
      outputDir,
      '--no-report',
      '--no-verbose',
    ],
    { timeoutMs },
  );
  if (cost.exitCode !== 0)
    throw new Error(`cryo failed (exit ${cost.exitCode}): ${cost.stderr.slice(-3000)}`);
  return cost;
}
