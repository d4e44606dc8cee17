// `make bench` (schedules): a script, not a test; it prints figures and whether the targets
// were met, and exits 0 unless something broke.
//
// 1. Planning time over 1,000,000 markers in ClickHouse (the stack's 18.16): the marker read a
//    schedule's look makes (windowMarkers.ts) plus the pure planning (assessWindow, decideRuns),
//    for a window over the whole table, a 1M-block window, and a realtime look from the first
//    incomplete batch. Target: under 1 s.
// 2. Realtime latency: a private anvil mining a block a second, the operator of this checkout
//    with realtime `ingest` and `erc20_transfers` schedules (queue executor, realtime lane), and
//    one queue worker on that lane, as a WorkerPool's pod would be. For each transfers batch:
//    from the moment its last input (logs) marker is visible to the moment its output marker is,
//    both seen by this script polling ClickHouse every 100 ms; next to it, the model's own time
//    per batch from the worker's log. Target: p99 under 5 s plus the model's own time.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { stringify as toYaml } from 'yaml';
import { createServerClient } from '../adapters/clickhouse/clickhouseClient.ts';
import { ClickHouseMarkerStore } from '../adapters/clickhouse/markerStore.ts';
import {
  CustomResourceClient,
  createKubeClients,
  customResourceType,
  loadKubeConfig,
  mergePatch,
} from '../adapters/kube/index.ts';
import { RabbitConnection } from '../adapters/rabbitmq/connection.ts';
import { deleteWorkQueueTopology } from '../adapters/rabbitmq/topology.ts';
import { workQueueName } from '../contract/queues.ts';
import { DEFAULT_RETRY_DELAYS_MS } from '../contract/retryPolicy.ts';
import { readWindowMarkers } from '../controllers/modelschedule/windowMarkers.ts';
import { decideRuns } from '../controllers/planning/runDecisions.ts';
import { assessWindow } from '../controllers/planning/scheduleWindow.ts';
import type { ModelRun, ModelSchedule } from '../crds/generated/types.ts';
import { MODEL_RUN, MODEL_SCHEDULE } from '../crds/kinds.ts';
import { type ChainConfig, parseChains } from '../dataplane/chains.ts';
import type { NewMarker } from '../dataplane/markers.ts';
import { INGESTION_ROOT_PATHS, dataPath } from '../dataplane/paths.ts';
import { ERC20_TRANSFERS_MANIFEST, INGEST_MANIFEST } from '../models/manifests.ts';
import { anvilChainsDocument } from '../devtools/anvilChain.ts';
import { keepScheduleCrdInstalled } from '../devtools/scheduleCrdGuard.ts';
import { repoRoot, stackEnv } from '../devtools/stackEnv.ts';
import { startAnvil } from './benchChain.ts';

const env = stackEnv();
const tag = Date.now().toString(36);
const LOGS = INGESTION_ROOT_PATHS.logs;
const TRANSFERS = ERC20_TRANSFERS_MANIFEST.outputs[0]!.rootPath;
const PLANNING_BATCHES = 256_000;
const PLANNING_REPEATS = 5;
const LATENCY_SAMPLES = Number(process.env.BENCH_LATENCY_SAMPLES ?? 30);
const LATENCY_BATCH_SIZE = 5;

function log(message: string): void {
  console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
}

function benchChain(name: string, batchSize: number, rpcEnv: string): ChainConfig {
  return parseChains(anvilChainsDocument(name, rpcEnv, batchSize)).get(name)!;
}

async function dropDatabase(database: string): Promise<void> {
  const client = createServerClient(env.CLICKHOUSE_URL);
  await client.command({ query: `DROP DATABASE IF EXISTS \`${database}\`` }).catch(() => undefined);
  await client.close();
}

// 1. Planning over 1M markers.

interface PlanningResult {
  name: string;
  /** Marker read + planning, per repeat. */
  ms: number[];
  /** The marker read alone, per repeat. */
  readMs: number[];
  batches: number;
  markers: number;
}

async function planningBench(): Promise<PlanningResult[]> {
  const database = `bench_plan_${tag}`;
  const chain = benchChain('local', 100, 'ETH_RPC_URL');
  const store = new ClickHouseMarkerStore({
    // The whole-table read can take long on a busy machine: it is measured, not cut off.
    client: createServerClient(env.CLICKHOUSE_URL, { requestTimeoutMs: 300_000 }),
    ownsClient: true,
    database,
    chains: new Map([[chain.name, chain]]),
  });
  try {
    await store.ensureTable();
    // Ingestion complete for every batch (3 root paths), the model done for 9 in 10: ~1M markers.
    let markers = 0;
    let chunk: NewMarker[] = [];
    const started = performance.now();
    for (let i = 0; i < PLANNING_BATCHES; i++) {
      const minBlock = i * 100;
      const dt = new Date(Date.UTC(2024, 0, 1) + Math.floor(minBlock / 86_400) * 86_400_000)
        .toISOString()
        .slice(0, 10);
      const roots: string[] = [INGESTION_ROOT_PATHS.blocks, INGESTION_ROOT_PATHS.transactions, LOGS];
      if (i % 10 !== 3) roots.push(TRANSFERS);
      for (const rootPath of roots) {
        chunk.push({
          chain: chain.name,
          dt,
          rootPath,
          dataPath: dataPath(rootPath, chain.name, dt, minBlock),
          minBlock,
          maxBlock: minBlock + 100,
          rowCount: 10,
          numParts: 1,
          processName: 'bench',
          writerName: 'bench',
        });
      }
      if (chunk.length >= 100_000) {
        markers += chunk.length;
        await store.writeMarkers(chunk);
        chunk = [];
      }
    }
    markers += chunk.length;
    await store.writeMarkers(chunk);
    log(`planning: wrote ${markers} markers in ${((performance.now() - started) / 1000).toFixed(1)} s`);

    const target = { manifest: ERC20_TRANSFERS_MANIFEST, chain };
    const head = PLANNING_BATCHES * 100;
    const cases = [
      { name: 'whole table as the window (block 0 on)', windowStart: 0, scanFrom: 0 },
      {
        name: 'a 1M-block window (the last 10,000 batches)',
        windowStart: head - 1_000_000,
        scanFrom: head - 1_000_000,
      },
      // A realtime look: everything before the last ten batches was complete at the last full read.
      { name: 'a realtime look (from the first incomplete batch)', windowStart: 0, scanFrom: head - 1_000 },
    ];
    const results = [];
    for (const { name, windowStart, scanFrom } of cases) {
      const ms: number[] = [];
      const readMs: number[] = [];
      let batches = 0;
      for (let repeat = 0; repeat < PLANNING_REPEATS; repeat++) {
        const t0 = performance.now();
        const read = await readWindowMarkers(store, target, scanFrom);
        readMs.push(performance.now() - t0);
        const assessment = assessWindow({
          delimiters: chain.batchSizes,
          windowStart,
          scanFrom,
          completeInputs: read.completeInputs,
          completeOutputs: read.completeOutputs,
        });
        decideRuns({
          schedule: { name: 'bench', uid: 'bench' },
          version: 1,
          pending: assessment.pending,
          followingFrom: head,
          runs: [],
          policy: 'Forbid',
          maxBatchesPerRun: 1000,
          mayCreate: true,
          progressDeadlineSeconds: 3600,
          now: new Date(),
        });
        ms.push(performance.now() - t0);
        batches = (assessment.windowEnd - scanFrom) / 100;
      }
      results.push({ name, ms, readMs, batches, markers });
      log(`planning: ${name}: p50 ${quantile(ms, 0.5).toFixed(0)} ms over ${batches} batches`);
    }
    return results;
  } finally {
    await store.close();
    await dropDatabase(database);
  }
}

// 2. Realtime latency.

interface Spawned {
  child: ChildProcess;
  logFile: string;
}

function spawnLogged(script: string, processEnv: Record<string, string>, logFile: string): Spawned {
  const out = openSync(logFile, 'a');
  const child = spawn(process.execPath, [join(repoRoot, script)], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...processEnv },
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  return { child, logFile };
}

async function stop(spawned: Spawned | undefined): Promise<void> {
  const child = spawned?.child;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  if (await Promise.race([exited.then(() => false), sleep(15_000).then(() => true)])) {
    child.kill('SIGKILL');
    await exited;
  }
}

function jsonLines(file: string): Record<string, unknown>[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

interface LatencyResult {
  samples: number;
  latencyMs: number[];
  ingestMs: number[];
  modelSeconds: number[];
  ingestModelSeconds: number[];
}

async function latencyBench(): Promise<LatencyResult> {
  const chainName = `b_${tag}`;
  const rpcEnv = `RPC_B_${tag.toUpperCase()}`;
  const database = `bench_rt_${tag}`;
  const namespace = `bench-rt-${tag}`;
  const prefix = `bench-rt-${tag}:`;
  const queue = workQueueName(chainName, 'realtime', 'nonreads');
  const dir = await mkdtemp(join(tmpdir(), 'bench-rt-'));
  const chain = benchChain(chainName, LATENCY_BATCH_SIZE, rpcEnv);
  const chainsFile = join(dir, 'chains.json');
  await writeFile(chainsFile, JSON.stringify(anvilChainsDocument(chainName, rpcEnv, LATENCY_BATCH_SIZE)));
  const kubeConfig = loadKubeConfig({ KUBECONFIG: env.KUBECONFIG });
  const kube = createKubeClients(kubeConfig);
  const stopGuard = keepScheduleCrdInstalled(kubeConfig);
  const schedules = new CustomResourceClient<ModelSchedule>(
    kube.customObjects,
    customResourceType(MODEL_SCHEDULE),
  );
  const runs = new CustomResourceClient<ModelRun>(kube.customObjects, customResourceType(MODEL_RUN));
  const store = new ClickHouseMarkerStore({
    client: createServerClient(env.CLICKHOUSE_URL),
    ownsClient: true,
    database,
    chains: new Map([[chain.name, chain]]),
  });
  const anvil = await startAnvil();
  let operator: Spawned | undefined;
  let worker: Spawned | undefined;
  try {
    await store.ensureTable();
    await kube.core.createNamespace({
      body: { metadata: { name: namespace, labels: { 'model-runner.dev/bench': 'true' } } },
    });
    const rpc = async (method: string, params: unknown[]) => {
      const response = await fetch(anvil.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
      });
      return ((await response.json()) as { result: unknown }).result;
    };
    await rpc('anvil_mine', ['0x5']);
    await rpc('evm_setIntervalMining', [1]);

    const common = {
      CLICKHOUSE_URL: env.CLICKHOUSE_URL,
      REDIS_URL: env.REDIS_URL,
      RABBITMQ_URL: env.RABBITMQ_URL,
      [rpcEnv]: anvil.url,
    };
    worker = spawnLogged(
      'worker-image/main.ts',
      {
        ...common,
        WORKER_MODE: 'queue',
        WORKER_QUEUES: queue,
        WORKER_CONCURRENCY: '2',
        WORKER_NAME: `bench-worker-${tag}`,
        WORKER_CHAINS_FILE: chainsFile,
        WORKER_SINK: 'none',
        LAKE_URL: join(dir, 'lake'),
        CLICKHOUSE_DATABASE: database,
        REDIS_PROGRESS_PREFIX: prefix,
        METRICS_PORT: '0',
        LOG_LEVEL: 'info',
      },
      join(dir, 'worker.log'),
    );
    operator = spawnLogged(
      'operator/main.ts',
      {
        ...common,
        KUBECONFIG: env.KUBECONFIG,
        WATCH_NAMESPACE: namespace,
        POD_NAMESPACE: namespace,
        POD_NAME: `bench-operator-${tag}`,
        METRICS_PORT: '0',
        OPERATOR_CONFIG: toYaml({
          chainsFile,
          lakeUrl: join(dir, 'lake'),
          clickhouseDatabase: database,
          progressPrefix: prefix,
          statusIntervalSeconds: 2,
        }),
      },
      join(dir, 'operator.log'),
    );
    for (const model of [INGEST_MANIFEST.name, ERC20_TRANSFERS_MANIFEST.name]) {
      await schedules.create(namespace, {
        metadata: { name: model.replace('_', '-'), namespace },
        spec: {
          model,
          chain: chainName,
          trigger: { realtime: true },
          runTemplate: { spec: { executor: 'queue', lane: 'realtime' } },
        },
      });
    }
    log(
      `latency: chain ${chainName} (batches of ${LATENCY_BATCH_SIZE} blocks, a block a second), ${LATENCY_SAMPLES} batches`,
    );

    // Watch the markers and the tip: when each batch's input and output first became complete.
    const inputSeen = new Map<number, number>();
    const outputSeen = new Map<number, number>();
    const lastBlockMined = new Map<number, number>();
    let firstBatch: number | undefined;
    const deadline = Date.now() + (LATENCY_SAMPLES + 12) * LATENCY_BATCH_SIZE * 1000 * 3;
    while (Date.now() < deadline) {
      const now = Date.now();
      const tip = Number(await rpc('eth_blockNumber', []));
      for (let start = 0; start + LATENCY_BATCH_SIZE - 1 <= tip; start += LATENCY_BATCH_SIZE) {
        if (!lastBlockMined.has(start)) lastBlockMined.set(start, now);
      }
      const complete = await store.completeBatches(chainName, [LOGS, TRANSFERS], {
        minBlock: Math.max(0, tip - 40 * LATENCY_BATCH_SIZE),
        maxBlock: 2 ** 48,
      });
      for (const batch of complete) {
        const seen = batch.rootPath === LOGS ? inputSeen : outputSeen;
        if (!seen.has(batch.minBlock)) seen.set(batch.minBlock, now);
      }
      // Measure batches whose input appeared while we watched (skip the first few, warming up).
      const measured = [...outputSeen.keys()].filter((start) => inputSeen.has(start));
      firstBatch ??= measured.length > 0 ? Math.min(...measured) + 3 * LATENCY_BATCH_SIZE : undefined;
      if (
        firstBatch !== undefined &&
        measured.filter((start) => start >= firstBatch!).length >= LATENCY_SAMPLES
      )
        break;
      await sleep(Math.max(0, 100 - (Date.now() - now)));
    }
    const starts = [...outputSeen.keys()]
      .filter((start) => firstBatch !== undefined && start >= firstBatch && inputSeen.has(start))
      .sort((a, b) => a - b)
      .slice(0, LATENCY_SAMPLES);
    if (starts.length < LATENCY_SAMPLES) {
      throw new Error(`only ${starts.length} of ${LATENCY_SAMPLES} batches measured; see ${dir}`);
    }
    const done = jsonLines(worker.logFile).filter((line) => line.msg === 'batch done');
    const secondsOf = (model: string) =>
      done
        .filter(
          (line) =>
            line.model === model && starts.some((start) => line.batchId === `${chainName}/${model}/${start}`),
        )
        .map((line) => Number(line.seconds));
    return {
      samples: starts.length,
      latencyMs: starts.map((start) => outputSeen.get(start)! - inputSeen.get(start)!),
      ingestMs: starts.map((start) => inputSeen.get(start)! - lastBlockMined.get(start)!),
      modelSeconds: secondsOf(ERC20_TRANSFERS_MANIFEST.name),
      ingestModelSeconds: secondsOf(INGEST_MANIFEST.name),
    };
  } finally {
    await stop(operator);
    await stop(worker);
    await anvil.stop();
    stopGuard();
    const left = await runs.list({ namespace }).catch(() => ({ items: [] as ModelRun[] }));
    for (const run of left.items) {
      await kube.customObjects
        .patchNamespacedCustomObject(
          { ...runs.type, namespace, name: run.metadata!.name!, body: { metadata: { finalizers: null } } },
          mergePatch,
        )
        .catch(() => undefined);
    }
    await kube.core.deleteNamespace({ name: namespace }).catch(() => undefined);
    const rabbit = await RabbitConnection.open({
      url: env.RABBITMQ_URL,
      connectionName: 'bench-cleanup',
      logger: pino({ level: 'silent' }),
    });
    await rabbit
      .withChannel((channel) => deleteWorkQueueTopology(channel, queue, DEFAULT_RETRY_DELAYS_MS))
      .catch(() => undefined);
    await rabbit.close();
    await store.close();
    await dropDatabase(database);
    if (!process.env.BENCH_KEEP) await rm(dir, { recursive: true, force: true });
  }
}

function summarize(values: readonly number[], unit: string, digits = 0): string {
  return `p50 ${quantile(values, 0.5).toFixed(digits)} ${unit}, p99 ${quantile(values, 0.99).toFixed(digits)} ${unit}, max ${Math.max(...values).toFixed(digits)} ${unit}`;
}

const load = loadavg()[0]!.toFixed(1);
log(`load average ${load} on this machine at the start`);
const planning = await planningBench();
// BENCH_LATENCY_SAMPLES=0 measures planning alone (a minute instead of several).
const latency = LATENCY_SAMPLES > 0 ? await latencyBench() : undefined;

console.log('\n## Planning over 1,000,000 markers (ClickHouse 18.16; marker read + pure planning)\n');
console.log('| window | batches read | p50 (of it the marker read) | min | max | target < 1 s |');
console.log('| --- | ---: | ---: | ---: | ---: | --- |');
for (const { name, ms, readMs, batches } of planning) {
  const p50 = quantile(ms, 0.5);
  console.log(
    `| ${name} | ${batches} | ${p50.toFixed(0)} ms (${quantile(readMs, 0.5).toFixed(0)} ms) | ${Math.min(...ms).toFixed(0)} ms | ${Math.max(...ms).toFixed(0)} ms | ${p50 < 1000 ? 'met' : 'not met'} |`,
  );
}
if (latency) printLatency(latency);
console.log(`\nload average at the start ${load}, at the end ${loadavg()[0]!.toFixed(1)} (2 cores, shared)`);

function printLatency(latency: Awaited<ReturnType<typeof latencyBench>>): void {
  const p99 = quantile(latency.latencyMs, 0.99) / 1000;
  const modelP99 = quantile(latency.modelSeconds, 0.99);
  console.log(
    `\n## Realtime latency (${latency.samples} erc20_transfers batches, a block a second, poll 2 s)\n`,
  );
  console.log(`- last input marker → output marker: ${summarize(latency.latencyMs, 'ms')}`);
  console.log(`- the model's own time per batch (worker log): ${summarize(latency.modelSeconds, 's', 2)}`);
  console.log(
    `- ingest, last block mined → its logs marker: ${summarize(latency.ingestMs, 'ms')} (model time ${summarize(latency.ingestModelSeconds, 's', 2)})`,
  );
  console.log(
    `- target p99 < 5 s + the model's own time (${modelP99.toFixed(2)} s): ${p99 < 5 + modelP99 ? 'met' : 'not met'} (${p99.toFixed(2)} s)`,
  );
}
