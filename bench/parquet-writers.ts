// Parquet write paths, measured on one machine in one run (a script, not a test):
//   1. hyparquet-writer       JS rows → parquet bytes (pure JS, SNAPPY)
//   2. DuckDB appender + COPY JS rows → parquet file (native)
//   3. DuckDB SQL             ingestion-like logs parquet → filter + decode Transfer → parquet,
//                             the erc20_transfers shape, rows never entering JS
// Each figure is the median of several runs; every output is read back with DuckDB and
// its row count checked. Usage: node bench/parquet-writers.ts [rows=1000000] [runs=3]
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDbSession, readParquetSql } from '../adapters/parquet/duckDbSession.ts';
import type { ParquetRow } from '../dataplane/parquetSchema.ts';
import { writeParquet } from '../adapters/parquet/parquetWriter.ts';
import { ERC20_TRANSFER_TOPIC } from '../models/abi/erc20TransferLog.ts';
import { erc20TransfersSchema } from '../models/erc20_transfers/erc20TransfersSchema.ts';
import { uint256HexToDecimalSql } from '../models/erc20_transfers/uint256DecimalSql.ts';

const ROWS = Number(process.argv[2] ?? 1_000_000);
const RUNS = Number(process.argv[3] ?? 3);

function hex(value: number, width: number): string {
  return value.toString(16).padStart(width, '0');
}

function transferRows(count: number): ParquetRow[] {
  const rows: ParquetRow[] = new Array(count);
  for (let index = 0; index < count; index++) {
    rows[index] = {
      block_number: BigInt(20_000_000 + Math.floor(index / 200)),
      block_timestamp: 1_727_740_800 + Math.floor(index / 200) * 12,
      transaction_hash: `0x${hex(index, 64)}`,
      log_index: index % 200,
      token_address: `0x${hex(index % 500, 40)}`,
      from_address: `0x${hex((index * 7) % 100_000, 40)}`,
      to_address: `0x${hex((index * 13) % 100_000, 40)}`,
      value: String(BigInt(index) * 1_000_000_000_000n),
    };
  }
  return rows;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function measure(name: string, rows: number, run: () => Promise<string>, check: DuckDbSession) {
  const seconds: number[] = [];
  let bytes = 0;
  for (let attempt = 0; attempt < RUNS; attempt++) {
    const started = performance.now();
    const file = await run();
    seconds.push((performance.now() - started) / 1000);
    const [counted] = await check.query(`SELECT count(*) AS n FROM ${readParquetSql([file])}`);
    if (Number(counted?.n) !== rows)
      throw new Error(`${name}: wrote ${String(counted?.n)} rows, expected ${rows}`);
    bytes = (await stat(file)).size;
  }
  const best = median(seconds);
  console.log(
    `${name.padEnd(58)} ${String(Math.round(rows / best)).padStart(9)} rows/s  ` +
      `${best.toFixed(2)} s  ${(bytes / 1e6).toFixed(1)} MB  (median of ${RUNS})`,
  );
  return rows / best;
}

const dir = await mkdtemp(join(tmpdir(), 'bench-parquet-'));
const check = await DuckDbSession.open({ threads: 2 });
try {
  console.log(
    `parquet write paths, ${ROWS} rows, Node ${process.version}, SNAPPY, one process, ` +
      `load average ${loadavg()[0]!.toFixed(1)} at start`,
  );
  const rows = transferRows(ROWS);

  await measure(
    'hyparquet-writer (JS rows → bytes → file)',
    ROWS,
    async () => {
      const file = join(dir, 'hyparquet.parquet');
      await writeFile(file, writeParquet(erc20TransfersSchema, rows));
      return file;
    },
    check,
  );

  for (const threads of [1, 2]) {
    const session = await DuckDbSession.open({ threads });
    await measure(
      `DuckDB appender + COPY, ${threads} thread(s)`,
      ROWS,
      async () => {
        const file = join(dir, `duckdb-${threads}.parquet`);
        await session.writeRowsToParquet(erc20TransfersSchema, rows, file);
        return file;
      },
      check,
    );
    session.close();
  }

  // An ingestion-like logs file: 90% Transfer logs (3 topics, 32-byte data), 10% others.
  const logsFile = join(dir, 'logs.parquet');
  await check.run(`COPY (
    SELECT 20000000 + i // 200 AS block_number,
      to_timestamp(1727740800 + (i // 200) * 12) AS block_timestamp,
      '0x' || md5(i::VARCHAR) || md5((i + 1)::VARCHAR) AS transaction_hash,
      (i % 200)::INTEGER AS log_index,
      '0x' || lpad(printf('%x', i % 500), 40, '0') AS address,
      CASE WHEN i % 10 = 0 THEN '0x' || md5('other') || md5('x') ELSE '${ERC20_TRANSFER_TOPIC}' END AS topic0,
      '0x' || lpad(printf('%x', (i * 7) % 100000), 64, '0') AS topic1,
      '0x' || lpad(printf('%x', (i * 13) % 100000), 64, '0') AS topic2,
      NULL::VARCHAR AS topic3,
      '0x' || lpad(printf('%x', i * 1000000000000), 64, '0') AS data
    FROM range(${Math.round(ROWS / 0.9)}) t(i)
  ) TO '${logsFile}' (FORMAT parquet, COMPRESSION snappy)`);
  const [logCount] = await check.query(
    `SELECT count(*) AS n FROM ${readParquetSql([logsFile])} WHERE topic0 = '${ERC20_TRANSFER_TOPIC}'`,
  );
  const transfers = Number(logCount?.n);

  // Two decodings of the uint256 value: the model's exact long division as it stands, and
  // the same behind a fast path for values below 2^127, which DuckDB prints through HUGEINT
  // (~50x faster than printing a UHUGEINT: see docs/data-plane.md).
  const word = 'substr(data, 3, 64)';
  const below127 = `substr(${word}, 1, 32) = '${'0'.repeat(32)}' AND substr(${word}, 33, 1) < '8'`;
  const low128 = `(('0x' || substr(${word}, 33, 16))::UBIGINT::UHUGEINT << 64 | ('0x' || substr(${word}, 49, 16))::UBIGINT::UHUGEINT)`;
  const decodings = {
    'long division': uint256HexToDecimalSql(word),
    'HUGEINT fast path': `CASE WHEN ${below127} THEN ${low128}::HUGEINT::VARCHAR ELSE ${uint256HexToDecimalSql(word)} END`,
  };
  for (const [decoding, value] of Object.entries(decodings)) {
    for (const threads of [1, 2]) {
      const session = await DuckDbSession.open({ threads });
      await measure(
        `DuckDB SQL logs → transfers, ${decoding}, ${threads} thr`,
        transfers,
        async () => {
          const file = join(dir, `transfers-${threads}.parquet`);
          await session.copyToParquet(
            `SELECT block_number::UBIGINT AS block_number, block_timestamp, transaction_hash, log_index,
             address AS token_address, '0x' || substr(topic1, 27) AS from_address,
             '0x' || substr(topic2, 27) AS to_address, ${value} AS value
           FROM ${readParquetSql([logsFile])}
           WHERE topic0 = '${ERC20_TRANSFER_TOPIC}' AND topic3 IS NULL AND length(data) = 66`,
            file,
          );
          return file;
        },
        check,
      );
      session.close();
    }
  }
  console.log(
    `peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB (whole run, JS rows included)`,
  );
} finally {
  check.close();
  await rm(dir, { recursive: true, force: true });
}
