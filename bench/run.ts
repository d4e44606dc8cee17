// `make bench`: blocks/s, rows/s, CPU and peak RSS of the real worker (worker-image/main.ts in
// job mode, Kafka sink off) for `ingest` and `erc20_transfers` at batch sizes 100 and 1,000,
// and of the peer tool cryo ingesting the same chain in the same run. A script, not a test:
// it prints figures and whether the targets were met, and exits 0 unless something broke.
//
// Inputs: a private anvil filled by bench/benchChain.ts, and a synthetic 1M-log input
// (bench/syntheticLogs.ts). Every process is measured by GNU time (bench/measuredProcess.ts).
// Everything binds to 127.0.0.1; temp dirs, ClickHouse databases and Redis keys are removed.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import IORedis from 'ioredis';
import { createClickHouseClient, openClickHouseMarkerStore } from '../adapters/clickhouse/index.ts';
import { DuckDbSession, readParquetSql } from '../adapters/parquet/duckDbSession.ts';
import type { RunRequest } from '../contract/batchMessage.ts';
import { modelRegistry } from '../models/registry.ts';
import { stackEnv } from '../devtools/stackEnv.ts';
import { type AnvilProcess, fillChain, startAnvil } from './benchChain.ts';
import { type ProcessCost, assertGnuTime, runMeasured } from './measuredProcess.ts';
import { writeSyntheticLogs } from './syntheticLogs.ts';

const REPO = join(import.meta.dirname, '..');
const CRYO = join(process.env.HOME ?? '/root', '.cache/model-runner/cryo/bin/cryo');
const NODE = process.execPath;
const BATCH_SIZES = [100, 1_000] as const;
/** Blocks [0, 2000) of the filled chain are measured. */
const CHAIN_RANGE = { minBlock: 0, maxBlock: 2_000 };
const FILL = { blocks: 2_000, sprayTxsPerBlock: 4, logsPerTx: 12, tokens: 3 };
const SYNTHETIC = { blocks: 1_000, logsPerBlock: 1_000 };
const PROCESS_TIMEOUT_MS = 10 * 60_000;
const TARGET_ROWS_PER_CORE = 200_000;
const TARGET_PEAK_RSS_MIB = 512;

interface Measurement {
  tool: string;
  model: string;
  input: string;
  batchSize: number;
  blocks: number;
  rows: number;
  cost: ProcessCost;
  /** Sum of the worker's own per-batch durations (excludes process start and connections). */
  batchSeconds?: number;
}

const runTag = Date.now().toString(36);
const env = stackEnv();
const measurements: Measurement[] = [];
const databases: string[] = [];
const localChain = (
  JSON.parse(readFileSync(join(REPO, 'chains/chains.json'), 'utf8')) as { chains: { name: string }[] }
).chains.find((chain) => chain.name === 'local');
if (!localChain) throw new Error('chains/chains.json has no local chain');

function log(message: string): void {
  console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

/** chains/chains.json's `local` chain with another batch size: the worker's WORKER_CHAINS_FILE. */
async function chainsFileFor(workDir: string, batchSize: number): Promise<string> {
  const file = join(workDir, `chains-${batchSize}.json`);
  const chain = { ...localChain, batchSizes: [{ fromBlock: 0, batchSize }] };
  await writeFile(file, JSON.stringify({ chains: [chain] }));
  return file;
}

interface WorkerJob {
  model: string;
  batchSize: number;
  range: { minBlock: number; maxBlock: number };
  lakeDir: string;
  database: string;
  rpcUrl: string;
  workDir: string;
}

/** The real worker in job mode over every batch of the range; one process, measured whole. */
async function runWorkerJob(
  job: WorkerJob,
): Promise<{ cost: ProcessCost; rows: number; batchSeconds: number }> {
  // One pod without a completion index works every batch of the run, in order.
  const run: RunRequest = {
    runId: {
      namespace: 'bench',
      name: `${job.model.replace(/_/g, '-')}-b${job.batchSize}`,
      uid: `bench-${runTag}`,
    },
    model: job.model,
    version: modelRegistry.get(job.model).version,
    chain: 'local',
    range: job.range,
    force: false,
    maxRetriesPerBatch: 0,
  };
  const cost = await runMeasured(NODE, [join(REPO, 'worker-image/main.ts')], {
    cwd: REPO,
    timeoutMs: PROCESS_TIMEOUT_MS,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      WORKER_MODE: 'job',
      WORKER_RUN: JSON.stringify(run),
      WORKER_CHAINS_FILE: await chainsFileFor(job.workDir, job.batchSize),
      WORKER_SINK: 'none',
      WORKER_NAME: 'bench-worker',
      LAKE_URL: job.lakeDir,
      CLICKHOUSE_URL: env.CLICKHOUSE_URL,
      CLICKHOUSE_DATABASE: job.database,
      REDIS_URL: env.REDIS_URL,
      REDIS_PROGRESS_PREFIX: `bench-${runTag}:`,
      ETH_RPC_URL: job.rpcUrl,
      METRICS_PORT: '0',
      LOG_LEVEL: 'info',
    },
  });
  let rows = 0;
  let batchSeconds = 0;
  let done = 0;
  for (const line of cost.stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as { msg?: string; outcome?: string; rows?: number; seconds?: number };
    if (entry.msg !== 'batch done') continue;
    if (entry.outcome !== 'succeeded') throw new Error(`${job.model}: a batch ended ${entry.outcome}`);
    rows += entry.rows ?? 0;
    batchSeconds += entry.seconds ?? 0;
    done++;
  }
  const expected = (job.range.maxBlock - job.range.minBlock) / job.batchSize;
  if (cost.exitCode !== 0 || done !== expected) {
    throw new Error(
      `worker ${job.model} b${job.batchSize}: exit ${cost.exitCode}, ${done}/${expected} batches done\n` +
        `${cost.stdout.slice(-3000)}\n${cost.stderr.slice(-3000)}`,
    );
  }
  return { cost, rows, batchSeconds };
}

/** cryo ingesting the same blocks into parquet: blocks, transactions, logs. */
async function runCryo(rpcUrl: string, batchSize: number, outputDir: string): Promise<ProcessCost> {
  const cost = await runMeasured(
    CRYO,
    [
      'blocks',
      'transactions',
      'logs',
      '--rpc',
      rpcUrl,
      '--blocks',
      `${CHAIN_RANGE.minBlock}:${CHAIN_RANGE.maxBlock}`,
      '--chunk-size',
      String(batchSize),
      '--output-dir',
      outputDir,
      '--no-report',
      '--no-verbose',
    ],
    { timeoutMs: PROCESS_TIMEOUT_MS },
  );
  if (cost.exitCode !== 0)
    throw new Error(`cryo failed (exit ${cost.exitCode}): ${cost.stderr.slice(-3000)}`);
  return cost;
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

function sum(counts: Record<string, number>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
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

async function benchChain(
  anvil: AnvilProcess,
  workDir: string,
  batchSize: number,
  expectedTransfers: number,
) {
  const database = `bench_${runTag}_chain_b${batchSize}`;
  await createDatabase(database);
  const lakeDir = join(workDir, `lake-chain-b${batchSize}`);
  const blocks = CHAIN_RANGE.maxBlock - CHAIN_RANGE.minBlock;
  const job = { batchSize, range: CHAIN_RANGE, lakeDir, database, rpcUrl: anvil.url, workDir };

  log(`ingest, batch size ${batchSize}: worker`);
  const ingest = await runWorkerJob({ ...job, model: 'ingest' });
  measurements.push({
    tool: 'model-runner worker',
    model: 'ingest',
    input: 'anvil',
    batchSize,
    blocks,
    rows: ingest.rows,
    cost: ingest.cost,
    batchSeconds: ingest.batchSeconds,
  });

  log(`ingest, batch size ${batchSize}: cryo`);
  const cryoDir = join(workDir, `cryo-b${batchSize}`);
  const cryoCost = await runCryo(anvil.url, batchSize, cryoDir);
  const ours = await countParquetRows(join(lakeDir, 'ingestion'), {
    blocks: /^blocks_v1\//,
    transactions: /^transactions_v1\//,
    logs: /^logs_v1\//,
  });
  const theirs = await countParquetRows(cryoDir, {
    blocks: /__blocks__/,
    transactions: /__transactions__/,
    logs: /__logs__/,
  });
  if (JSON.stringify(ours) !== JSON.stringify(theirs))
    throw new Error(
      `ingest and cryo disagree on the rows: ${JSON.stringify(ours)} vs ${JSON.stringify(theirs)}`,
    );
  if (sum(ours) !== ingest.rows)
    throw new Error(`worker reported ${ingest.rows} rows, the lake holds ${sum(ours)}`);
  measurements.push({
    tool: 'cryo 0.3.2',
    model: 'ingest (blocks, txs, logs)',
    input: 'anvil',
    batchSize,
    blocks,
    rows: sum(theirs),
    cost: cryoCost,
  });

  log(`erc20_transfers on the ingested chain, batch size ${batchSize}`);
  const transfers = await runWorkerJob({ ...job, model: 'erc20_transfers' });
  if (transfers.rows !== expectedTransfers)
    throw new Error(
      `erc20_transfers wrote ${transfers.rows} rows, the chain holds ${expectedTransfers} transfers`,
    );
  measurements.push({
    tool: 'model-runner worker',
    model: 'erc20_transfers',
    input: 'anvil',
    batchSize,
    blocks,
    rows: transfers.rows,
    cost: transfers.cost,
    batchSeconds: transfers.batchSeconds,
  });
  return ours;
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
  const range = { minBlock: 0, maxBlock: SYNTHETIC.blocks };
  const result = await runWorkerJob({
    model: 'erc20_transfers',
    batchSize,
    range,
    lakeDir,
    database,
    rpcUrl: 'http://127.0.0.1:9',
    workDir,
  });
  if (result.rows !== expected.validTransfers)
    throw new Error(
      `erc20_transfers wrote ${result.rows} rows from synthetic logs, expected ${expected.validTransfers}`,
    );
  measurements.push({
    tool: 'model-runner worker',
    model: 'erc20_transfers',
    input: `synthetic ${expected.logs / 1e6}M logs`,
    batchSize,
    blocks: SYNTHETIC.blocks,
    rows: result.rows,
    cost: result.cost,
    batchSeconds: result.batchSeconds,
  });
  await rm(lakeDir, { recursive: true, force: true });
}

function printTable(): void {
  const header = [
    'tool',
    'model',
    'input',
    'batch',
    'blocks',
    'rows',
    'wall s',
    'CPU s',
    'blocks/s',
    'rows/s',
    'rows/CPU-s',
    'peak RSS MiB',
    'in batches s',
  ];
  const lines = measurements.map((m) => [
    m.tool,
    m.model,
    m.input,
    String(m.batchSize),
    m.blocks.toLocaleString('en-US'),
    m.rows.toLocaleString('en-US'),
    m.cost.wallSeconds.toFixed(2),
    m.cost.cpuSeconds.toFixed(2),
    Math.round(m.blocks / m.cost.wallSeconds).toLocaleString('en-US'),
    Math.round(m.rows / m.cost.wallSeconds).toLocaleString('en-US'),
    Math.round(m.rows / m.cost.cpuSeconds).toLocaleString('en-US'),
    m.cost.peakRssMiB.toFixed(0),
    m.batchSeconds === undefined ? '' : m.batchSeconds.toFixed(2),
  ]);
  const numeric = (column: number) => column >= 3;
  console.log(`| ${header.join(' | ')} |`);
  console.log(`|${header.map((_, column) => (numeric(column) ? '---:' : '---')).join('|')}|`);
  for (const line of lines) console.log(`| ${line.join(' | ')} |`);
}

function printTargets(): void {
  const verdict = (met: boolean) => (met ? 'MET' : 'NOT MET');
  console.log('\ntargets:');
  for (const m of measurements.filter(
    (m) => m.model === 'erc20_transfers' && m.input.startsWith('synthetic'),
  )) {
    const perCore = m.rows / m.cost.cpuSeconds;
    console.log(
      `  erc20_transfers >= ${TARGET_ROWS_PER_CORE.toLocaleString('en-US')} rows per worker core (rows per CPU-second, whole process), ` +
        `synthetic, batch ${m.batchSize}: ${Math.round(perCore).toLocaleString('en-US')} → ${verdict(perCore >= TARGET_ROWS_PER_CORE)}`,
    );
  }
  for (const batchSize of BATCH_SIZES) {
    const ours = measurements.find(
      (m) => m.tool.startsWith('model-runner') && m.model === 'ingest' && m.batchSize === batchSize,
    );
    const cryo = measurements.find((m) => m.tool.startsWith('cryo') && m.batchSize === batchSize);
    if (!ours || !cryo) continue;
    const ourRate = ours.blocks / ours.cost.wallSeconds;
    const cryoRate = cryo.blocks / cryo.cost.wallSeconds;
    console.log(
      `  ingest at least as fast as cryo, batch ${batchSize}: ${Math.round(ourRate)} vs ${Math.round(cryoRate)} blocks/s wall ` +
        `(CPU ${ours.cost.cpuSeconds.toFixed(2)} s vs ${cryo.cost.cpuSeconds.toFixed(2)} s) → ${verdict(ourRate >= cryoRate)}`,
    );
  }
  const bigBatches = measurements.filter((m) => m.tool.startsWith('model-runner') && m.batchSize === 1_000);
  const peak = Math.max(...bigBatches.map((m) => m.cost.peakRssMiB));
  console.log(
    `  peak worker RSS < ${TARGET_PEAK_RSS_MIB} MiB for 1,000-block batches: max ${peak.toFixed(0)} MiB → ${verdict(peak < TARGET_PEAK_RSS_MIB)}`,
  );
}

async function cleanUp(workDir: string | undefined, anvil: AnvilProcess | undefined): Promise<void> {
  await anvil?.stop().catch((error: unknown) => log(`stopping anvil: ${String(error)}`));
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
    `machine: ${cpu.length} × ${cpu[0]?.model ?? '?'}, Node ${process.version}, ${cryoVersion}, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
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
    workDir = await mkdtemp(join(tmpdir(), 'model-runner-bench-'));
    anvil = await startAnvil();
    log(
      `anvil pid ${anvil.pid} at ${anvil.url}: filling ${FILL.blocks} blocks (${FILL.sprayTxsPerBlock + 1} txs, ${FILL.sprayTxsPerBlock * FILL.logsPerTx} Transfer logs each)`,
    );
    const filled = await fillChain(anvil.url, FILL);
    log(
      `filled to block ${filled.tip}: ${filled.transactions} transactions, ${filled.transferLogs} Transfer logs in ${filled.seconds.toFixed(1)} s`,
    );
    // The measured range [0, 2000): the deployments sit in block 1, the filled blocks from 2.
    const filledInRange = CHAIN_RANGE.maxBlock - 2;
    const expectedTransfers = filledInRange * FILL.sprayTxsPerBlock * FILL.logsPerTx;
    for (const batchSize of BATCH_SIZES) {
      const counts = await benchChain(anvil, workDir, batchSize, expectedTransfers);
      log(`rows per dataset (worker and cryo agree): ${JSON.stringify(counts)}`);
    }
    await anvil.stop();
    anvil = undefined;
    for (const batchSize of BATCH_SIZES) await benchSynthetic(workDir, batchSize);
    log(
      `load average at the end ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    );
    console.log('');
    printTable();
    printTargets();
  } finally {
    await cleanUp(workDir, anvil);
  }
}

await main();
