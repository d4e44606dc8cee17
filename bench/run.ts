// `make bench`: wall clock, CPU and peak RSS of the real worker (worker-image/main.ts in job
// mode, Kafka sink off) for `ingest` and `erc20_transfers` at batch sizes 100 and 1,000, beside
// the peer tool cryo ingesting the same chain in the same run, on two chain profiles (light, and
// heavy: near mainnet's shape, bench/chainProfiles.ts), and `erc20_transfers` on a synthetic
// 1M-log input. A script, not a test: it prints figures, ratios and whether the targets were
// met, and exits 0 unless something broke.
//
// Every process is measured by GNU time (bench/measuredProcess.ts). Everything binds to
// 127.0.0.1; anvils are stopped by PID; temp dirs, ClickHouse databases and Redis keys are removed.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import IORedis from 'ioredis';
import { createClickHouseClient, openClickHouseMarkerStore } from '../adapters/clickhouse/index.ts';
import { DuckDbSession, readParquetSql } from '../adapters/parquet/duckDbSession.ts';
import { stackEnv } from '../devtools/stackEnv.ts';
import { type AnvilProcess, startAnvil } from './benchChain.ts';
import { type ChainProfile, CHAIN_PROFILES } from './chainProfiles.ts';
import { CRYO, runCryo } from './cryo.ts';
import { assertGnuTime } from './measuredProcess.ts';
import { type IngestPair, type Measurement, comparisonTable, detailTable, targetLines } from './report.ts';
import { writeSyntheticLogs } from './syntheticLogs.ts';
import { type WorkerJob, type WorkerJobResult, runWorkerJob, warmWorkerStart } from './workerJob.ts';

const REPO = join(import.meta.dirname, '..');
const BATCH_SIZES = [100, 1_000] as const;
const SYNTHETIC = { blocks: 1_000, logsPerBlock: 1_000 };
const PROCESS_TIMEOUT_MS = 10 * 60_000;

const runTag = Date.now().toString(36);
const env = stackEnv();
const measurements: Measurement[] = [];
const pairs: IngestPair[] = [];
const databases: string[] = [];

function log(message: string): void {
  console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

function loadAverage(): string {
  return loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
}

async function createDatabase(name: string): Promise<void> {
  const client = await createClickHouseClient(env.CLICKHOUSE_URL);
  try {
    databases.push(name);
    await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${name}` });
  } finally {
    await client.close();
  }
}

function workerJob(
  job: Omit<WorkerJob, 'clickhouseUrl' | 'redisUrl' | 'redisPrefix' | 'runTag' | 'timeoutMs'>,
) {
  return runWorkerJob({
    ...job,
    clickhouseUrl: env.CLICKHOUSE_URL,
    redisUrl: env.REDIS_URL,
    redisPrefix: `bench-${runTag}:`,
    runTag,
    timeoutMs: PROCESS_TIMEOUT_MS,
  });
}

function workerMeasurement(
  model: string,
  input: string,
  batchSize: number,
  blocks: number,
  result: WorkerJobResult,
): Measurement {
  return {
    tool: 'model-runner worker',
    model,
    input,
    batchSize,
    blocks,
    rows: result.rows,
    cost: result.cost,
    batchSeconds: result.batchSeconds,
  };
}

/** Row counts per dataset, read back with DuckDB from parquet files under `dir`. */
async function countParquetRows(
  dir: string,
  datasets: Record<string, RegExp>,
): Promise<Record<string, number>> {
  const files = (await readdir(dir, { recursive: true })).filter((file) => file.endsWith('.parquet'));
  const session = await DuckDbSession.open({ threads: 1 });
  try {
    const counts: Record<string, number> = {};
    for (const [name, pattern] of Object.entries(datasets)) {
      const matching = files.filter((file) => pattern.test(file)).map((file) => join(dir, file));
      if (matching.length === 0) throw new Error(`no ${name} files under ${dir}`);
      const [row] = await session.query(`SELECT count(*) AS n FROM ${readParquetSql(matching)}`);
      counts[name] = Number(row?.n);
    }
    return counts;
  } finally {
    session.close();
  }
}

const sum = (counts: Record<string, number>): number => Object.values(counts).reduce((a, b) => a + b, 0);

/** ingest and cryo on the profile's chain at one batch size, then erc20_transfers on what ingest wrote. */
async function benchProfileBatch(
  profile: ChainProfile,
  anvil: AnvilProcess,
  workDir: string,
  batchSize: number,
  expectedTransfers: number,
): Promise<void> {
  const database = `bench_${runTag}_${profile.name}_b${batchSize}`;
  await createDatabase(database);
  const lakeDir = join(workDir, `lake-${profile.name}-b${batchSize}`);
  const blocks = profile.range.maxBlock - profile.range.minBlock;
  const job = { batchSize, range: profile.range, lakeDir, database, rpcUrl: anvil.url, workDir };

  log(`${profile.name}: ingest, batch size ${batchSize}: worker (load average ${loadAverage()})`);
  const ingest = await workerJob({ ...job, model: 'ingest' });
  const ours = workerMeasurement('ingest', profile.name, batchSize, blocks, ingest);
  measurements.push(ours);

  log(`${profile.name}: ingest, batch size ${batchSize}: cryo (load average ${loadAverage()})`);
  const cryoDir = join(workDir, `cryo-${profile.name}-b${batchSize}`);
  const cryoCost = await runCryo(anvil.url, profile.range, batchSize, cryoDir, PROCESS_TIMEOUT_MS);
  const ourRows = await countParquetRows(join(lakeDir, 'ingestion'), {
    blocks: /^blocks_v1\//,
    transactions: /^transactions_v2\//,
    logs: /^logs_v1\//,
  });
  const theirRows = await countParquetRows(cryoDir, {
    blocks: /__blocks__/,
    transactions: /__transactions__/,
    logs: /__logs__/,
  });
  if (JSON.stringify(ourRows) !== JSON.stringify(theirRows))
    throw new Error(
      `ingest and cryo disagree on the rows: ${JSON.stringify(ourRows)} vs ${JSON.stringify(theirRows)}`,
    );
  if (sum(ourRows) !== ingest.rows)
    throw new Error(`worker reported ${ingest.rows} rows, the lake holds ${sum(ourRows)}`);
  log(`${profile.name}: rows per dataset (worker and cryo agree): ${JSON.stringify(ourRows)}`);
  const cryo: Measurement = {
    tool: 'cryo 0.3.2',
    model: 'ingest (blocks, txs, logs)',
    input: profile.name,
    batchSize,
    blocks,
    rows: sum(theirRows),
    cost: cryoCost,
  };
  measurements.push(cryo);
  pairs.push({ input: profile.name, batchSize, ours, cryo });
  await rm(cryoDir, { recursive: true, force: true });

  log(`${profile.name}: erc20_transfers on the ingested chain, batch size ${batchSize}`);
  const transfers = await workerJob({ ...job, model: 'erc20_transfers' });
  if (transfers.rows !== expectedTransfers)
    throw new Error(
      `erc20_transfers wrote ${transfers.rows} rows, the chain holds ${expectedTransfers} transfers`,
    );
  measurements.push(workerMeasurement('erc20_transfers', profile.name, batchSize, blocks, transfers));
  await rm(lakeDir, { recursive: true, force: true });
}

async function benchProfile(profile: ChainProfile, workDir: string, onAnvil: (anvil?: AnvilProcess) => void) {
  const anvil = await startAnvil();
  onAnvil(anvil);
  try {
    log(`${profile.name} chain, anvil pid ${anvil.pid} at ${anvil.url}: filling ${profile.description}`);
    const filled = await profile.fill(anvil.url);
    log(`${profile.name} chain filled in ${filled.seconds.toFixed(1)} s`);
    for (const batchSize of BATCH_SIZES) {
      await benchProfileBatch(profile, anvil, workDir, batchSize, filled.expectedTransfers);
    }
  } finally {
    await anvil.stop();
    onAnvil(undefined);
  }
}

async function benchSynthetic(workDir: string, batchSize: number): Promise<void> {
  const database = `bench_${runTag}_synthetic_b${batchSize}`;
  await createDatabase(database);
  const lakeDir = join(workDir, `lake-synthetic-b${batchSize}`);
  const markers = openClickHouseMarkerStore(env.CLICKHOUSE_URL, { database });
  let expected;
  try {
    await markers.ensureTable();
    log(`synthetic logs: ${SYNTHETIC.blocks * SYNTHETIC.logsPerBlock} logs in batches of ${batchSize}`);
    expected = await writeSyntheticLogs({ lakeDir, chain: 'local', markers, batchSize, ...SYNTHETIC });
  } finally {
    await markers.close();
  }
  log(`erc20_transfers on synthetic logs, batch size ${batchSize}`);
  const result = await workerJob({
    model: 'erc20_transfers',
    batchSize,
    range: { minBlock: 0, maxBlock: SYNTHETIC.blocks },
    lakeDir,
    database,
    rpcUrl: 'http://127.0.0.1:9',
    workDir,
  });
  if (result.rows !== expected.validTransfers)
    throw new Error(
      `erc20_transfers wrote ${result.rows} rows from synthetic logs, expected ${expected.validTransfers}`,
    );
  measurements.push(
    workerMeasurement(
      'erc20_transfers',
      `synthetic ${expected.logs / 1e6}M logs`,
      batchSize,
      SYNTHETIC.blocks,
      result,
    ),
  );
  await rm(lakeDir, { recursive: true, force: true });
}

async function cleanUp(workDir: string | undefined): Promise<void> {
  if (workDir) await rm(workDir, { recursive: true, force: true });
  if (databases.length > 0) {
    const client = await createClickHouseClient(env.CLICKHOUSE_URL);
    for (const database of databases)
      await client.command({ query: `DROP DATABASE IF EXISTS ${database}` }).catch(() => undefined);
    await client.close();
  }
  const redis = new IORedis.Redis(env.REDIS_URL, { maxRetriesPerRequest: 2 });
  try {
    const keys = await redis.keys(`bench-${runTag}:*`);
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}

async function main(): Promise<void> {
  assertGnuTime();
  const install = spawnSync('bash', [join(REPO, 'bench/install-cryo.sh')], { stdio: 'inherit' });
  if (install.status !== 0) throw new Error('bench/install-cryo.sh failed');
  const cryoVersion = spawnSync(CRYO, ['--version'], { encoding: 'utf8' }).stdout.trim();
  const cpu = cpus();
  log(
    `machine: ${cpu.length} × ${cpu[0]?.model ?? '?'}, Node ${process.version}, ${cryoVersion}, load average ${loadAverage()}`,
  );

  let workDir: string | undefined;
  let anvil: AnvilProcess | undefined;
  const onSignal = (): void => {
    if (anvil) process.kill(anvil.pid, 'SIGKILL');
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await warmWorkerStart();
    workDir = await mkdtemp(join(tmpdir(), 'model-runner-bench-'));
    const only = process.env.BENCH_PROFILES?.split(',');
    for (const profile of CHAIN_PROFILES) {
      if (only && !only.includes(profile.name)) continue;
      await benchProfile(profile, workDir, (current) => (anvil = current));
    }
    if (!only || only.includes('synthetic')) {
      for (const batchSize of BATCH_SIZES) await benchSynthetic(workDir, batchSize);
    }
    log(`load average at the end ${loadAverage()}`);
    console.log('\nEvery process:\n');
    for (const line of detailTable(measurements)) console.log(line);
    console.log('\ningest beside cryo on the same chain, in the same run:\n');
    for (const line of comparisonTable(pairs)) console.log(line);
    console.log('\ntargets:');
    for (const line of targetLines(pairs, measurements)) console.log(`  ${line}`);
  } finally {
    await cleanUp(workDir);
  }
}

await main();
