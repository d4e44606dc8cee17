// A large ingestion/logs_v1 input for erc20_transfers, generated straight into a local lake
// with the markers that commit it, as if ingest had written it. Mostly valid Transfers, plus
// lookalikes the model must skip: ERC-721 style (4 topics), short data, and other events.
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { MarkerStore, WrittenPart } from '../dataplane/markers.ts';
import { markersForBatch } from '../dataplane/markers.ts';
import { DuckDbSession } from '../adapters/parquet/duckDbSession.ts';
import { INGESTION_ROOT_PATHS, dataPath } from '../dataplane/paths.ts';
import { ERC20_TRANSFER_TOPIC } from '../models/abi/erc20TransferLog.ts';

/** 2024-10-01T00:00:00Z: 12 s blocks keep 1,000 blocks inside one day. */
const FIRST_TIMESTAMP = 1_727_740_800;

export interface SyntheticLogs {
  logs: number;
  /** Logs a correct decoder turns into rows. */
  validTransfers: number;
}

/**
 * Writes `logsPerBlock` logs for each block of [0, blocks) as one parquet per batch of
 * `batchSize`, with the logs schema ingest writes, and commits each batch with markers.
 * Per 100 logs: 90 Transfers (1 with a value ≥ 2^127), 4 ERC-721 style, 3 short data, 3 other events.
 */
export async function writeSyntheticLogs(input: {
  lakeDir: string;
  chain: string;
  markers: MarkerStore;
  blocks: number;
  logsPerBlock: number;
  batchSize: number;
}): Promise<SyntheticLogs> {
  const { lakeDir, chain, markers, blocks, logsPerBlock, batchSize } = input;
  const session = await DuckDbSession.open({ threads: 2 });
  try {
    const word = (expression: string) => `lpad(printf('%x', ${expression}), 64, '0')`;
    await session.run(`CREATE TABLE logs AS SELECT
        (i // ${logsPerBlock})::BIGINT AS block_number,
        to_timestamp(${FIRST_TIMESTAMP} + (i // ${logsPerBlock}) * 12) AS block_timestamp,
        '0x' || md5('b' || (i // ${logsPerBlock})::VARCHAR) || md5('h' || (i // ${logsPerBlock})::VARCHAR) AS block_hash,
        '0x' || md5('t' || (i // 10)::VARCHAR) || md5('u' || (i // 10)::VARCHAR) AS transaction_hash,
        ((i % ${logsPerBlock}) // 10)::INTEGER AS transaction_index,
        (i % ${logsPerBlock})::INTEGER AS log_index,
        '0x' || lpad(printf('%x', 4096 + i % 500), 40, '0') AS address,
        CASE WHEN i % 100 < 97 THEN '${ERC20_TRANSFER_TOPIC}' ELSE '0x' || md5('other') || md5('event') END AS topic0,
        '0x' || ${word('(i * 7) % 100003')} AS topic1,
        '0x' || ${word('(i * 13) % 100019 + 1')} AS topic2,
        CASE WHEN i % 100 BETWEEN 90 AND 93 THEN '0x' || ${word('i')} ELSE NULL END AS topic3,
        CASE
          WHEN i % 100 BETWEEN 90 AND 93 THEN '0x'
          WHEN i % 100 BETWEEN 94 AND 96 THEN '0x' || lpad(printf('%x', i), 32, '0')
          WHEN i % 100 = 0 THEN '0x8' || lpad(printf('%x', i), 63, '0')
          ELSE '0x' || ${word('i * 1000003')} END AS data
      FROM range(${blocks * logsPerBlock}) t(i)`);
    for (let minBlock = 0; minBlock < blocks; minBlock += batchSize) {
      const batch = { minBlock, maxBlock: Math.min(minBlock + batchSize, blocks) };
      const dt = new Date((FIRST_TIMESTAMP + minBlock * 12) * 1000).toISOString().slice(0, 10);
      const path = dataPath(INGESTION_ROOT_PATHS.logs, chain, dt, minBlock);
      const file = join(lakeDir, path);
      await mkdir(dirname(file), { recursive: true });
      const rowCount = await session.copyToParquet(
        `SELECT * FROM logs WHERE block_number >= ${batch.minBlock} AND block_number < ${batch.maxBlock} ORDER BY block_number, log_index`,
        file,
      );
      const parts: WrittenPart[] = [{ dt, ...batch, dataPath: path, rowCount }];
      await markers.writeMarkers(
        markersForBatch({
          chain,
          rootPath: INGESTION_ROOT_PATHS.logs,
          batch,
          parts,
          processName: 'bench/synthetic',
          writerName: 'bench',
        }),
      );
    }
    const logs = blocks * logsPerBlock;
    return { logs, validTransfers: (logs / 100) * 90 };
  } finally {
    session.close();
  }
}
