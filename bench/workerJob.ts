// The real worker (worker-image/main.ts) in job mode over every batch of a block range: one
// process, measured whole by GNU time (bench/measuredProcess.ts), Kafka sink off.
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunRequest } from '../contract/batchMessage.ts';
import { WORKER_NODE_FLAGS } from '../devtools/local-pod-runner/imageMap.ts';
import { modelRegistry } from '../models/registry.ts';
import { type ProcessCost, runMeasured } from './measuredProcess.ts';

const REPO = join(import.meta.dirname, '..');
const NODE = process.execPath;
/** Node's arguments for the worker: the image's flags, then its entry. */
const WORKER_ARGS = [...WORKER_NODE_FLAGS, join(REPO, 'worker-image/main.ts')];
/**
 * As in the worker image (worker-image/Dockerfile): Node's compile cache, filled once by
 * `warmWorkerStart`, so a worker process does not strip and compile the sources again at
 * every start, and two malloc arenas.
 */
const WORKER_PROCESS_ENV = {
  NODE_COMPILE_CACHE: join(process.env.HOME ?? '/root', '.cache/model-runner/node-compile-cache'),
  MALLOC_ARENA_MAX: '2',
};

/**
 * Batches the worker works side by side (WORKER_CONCURRENCY), as a queue worker may: so the
 * node has requests to answer while one batch writes its files, as cryo keeps 4 chunks going.
 */
const WORKER_CONCURRENCY = 2;

/** Starts a worker once without configuration (it loads its modules and exits 2), filling the cache. */
export async function warmWorkerStart(): Promise<void> {
  const cost = await runMeasured(NODE, WORKER_ARGS, {
    cwd: REPO,
    timeoutMs: 60_000,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...WORKER_PROCESS_ENV,
      WORKER_MODE: 'compile-cache',
    },
  });
  if (cost.exitCode !== 2)
    throw new Error(`worker warm-up: exit ${cost.exitCode}: ${cost.stderr.slice(-2000)}`);
}

const localChain = (
  JSON.parse(readFileSync(join(REPO, 'chains/chains.json'), 'utf8')) as { chains: { name: string }[] }
).chains.find((chain) => chain.name === 'local');
if (!localChain) throw new Error('chains/chains.json has no local chain');

export interface WorkerJob {
  model: string;
  batchSize: number;
  range: { minBlock: number; maxBlock: number };
  lakeDir: string;
  database: string;
  rpcUrl: string;
  workDir: string;
  /** The stack's services: markers, progress. */
  clickhouseUrl: string;
  redisUrl: string;
  /** Redis key prefix of this bench run (removed at the end). */
  redisPrefix: string;
  runTag: string;
  timeoutMs: number;
}

export interface WorkerJobResult {
  cost: ProcessCost;
  rows: number;
  /** Sum of the worker's own per-batch durations (excludes process start and connections). */
  batchSeconds: number;
}

/** chains/chains.json's `local` chain with another batch size: the worker's WORKER_CHAINS_FILE. */
async function chainsFileFor(workDir: string, batchSize: number): Promise<string> {
  const file = join(workDir, `chains-${batchSize}.json`);
  const chain = { ...localChain, batchSizes: [{ fromBlock: 0, batchSize }] };
  await writeFile(file, JSON.stringify({ chains: [chain] }));
  return file;
}

/** Runs the job; throws unless every batch succeeded. */
export async function runWorkerJob(job: WorkerJob): Promise<WorkerJobResult> {
  // One pod without a completion index works every batch of the run, in order.
  const run: RunRequest = {
    runId: {
      namespace: 'bench',
      name: `${job.model.replace(/_/g, '-')}-b${job.batchSize}`,
      uid: `bench-${job.runTag}`,
    },
    model: job.model,
    version: modelRegistry.get(job.model).version,
    chain: 'local',
    range: job.range,
    force: false,
    maxRetriesPerBatch: 0,
  };
  const batchCount = Math.ceil((job.range.maxBlock - job.range.minBlock) / job.batchSize);
  const cost = await runMeasured(NODE, WORKER_ARGS, {
    cwd: REPO,
    timeoutMs: job.timeoutMs,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...WORKER_PROCESS_ENV,
      WORKER_MODE: 'job',
      WORKER_CONCURRENCY: String(WORKER_CONCURRENCY),
      WORKER_RUN: JSON.stringify(run),
      WORKER_CHAINS_FILE: await chainsFileFor(job.workDir, job.batchSize),
      WORKER_SINK: 'none',
      WORKER_NAME: 'bench-worker',
      LAKE_URL: job.lakeDir,
      CLICKHOUSE_URL: job.clickhouseUrl,
      CLICKHOUSE_DATABASE: job.database,
      REDIS_URL: job.redisUrl,
      REDIS_PROGRESS_PREFIX: job.redisPrefix,
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
  if (cost.exitCode !== 0 || done !== batchCount) {
    throw new Error(
      `worker ${job.model} b${job.batchSize}: exit ${cost.exitCode}, ${done}/${batchCount} batches done\n` +
        `${cost.stdout.slice(-3000)}\n${cost.stderr.slice(-3000)}`,
    );
  }
  return { cost, rows, batchSeconds };
}
