// `make bench` (after the worker figures): 1,000 ModelRuns applied at once to one operator
// process, each one batch of `ingest` with executor queue, no worker consuming. A script, not a
// test: it prints figures beside their targets and exits 0 unless something broke.
//
// Measured:
// - time from the start of the apply until every run's batch is in the operator's dispatch
//   ledger (Redis, written after the broker confirmed the message), polled every 200 ms for all
//   runs at once. The runs are applied by server-side apply through the API, 32 at a time
//   (BENCH_OPERATOR_APPLY=kubectl: one `kubectl apply --server-side` of a multi-document
//   manifest instead, which sends them one after another);
// - API-server writes per run, from a watch on the runs' namespace opened before the apply: every
//   MODIFIED event is one persisted write (a new resourceVersion), split into status writes and
//   metadata writes (the finalizer) by what changed; the apply's own ADDED is not counted. An
//   apply that changes nothing persists nothing and sends no event: the operator skips those
//   itself (StatusThrottle), so the watch sees every write it makes;
// - status writes while a run stays Running: those in a steady window after every run is
//   Running, and every Running → Running write with the gap before it (target: one per 5 s);
// - the operator's reconciles and their mean duration (its /metrics), CPU time (per phase from
//   /proc, in all from GNU time) and RSS (leading with no run and when all are dispatched from
//   /proc, the peak from GNU time), with the V8 heap in use (its /metrics) beside.
// Then, as a worker would after each batch, every run's outcome is reported to Redis, and the
// time until all are Succeeded is measured. Finally the runs are deleted (the operator removes
// its finalizer), the operator is stopped, and the namespace, vhost, queue, Redis keys and
// ClickHouse database are removed. Everything binds to 127.0.0.1.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import IORedis from 'ioredis';
import { stringify } from 'yaml';
import { createServerClient } from '../adapters/clickhouse/clickhouseClient.ts';
import {
  applyObject,
  createKubeClients,
  customResourceType,
  listWatchClient,
  loadKubeConfig,
  type WatchEvent,
} from '../adapters/kube/index.ts';
import { RunProgressStore } from '../adapters/redis/progress.ts';
import { batchIdOf } from '../contract/batchMessage.ts';
import type { ModelRun } from '../crds/generated/types.ts';
import { MODEL_RUN as MODEL_RUN_KIND } from '../crds/kinds.ts';
import { AnvilSession } from '../devtools/anvil/erc20Scenario.ts';
import { installCrds, kubectl, kubectlOk } from '../devtools/kubectl.ts';
import { releaseModelRuns } from '../devtools/modelRunRelease.ts';
import { createVhost, deleteVhost, vhostUrl } from '../devtools/rabbitmqVhosts.ts';
import { repoRoot, stackEnv } from '../devtools/stackEnv.ts';
import { type MeasuredProcess, assertGnuTime, startMeasured } from './measuredProcess.ts';
import { describeStackCpu, stackCpuSeconds } from './stackCpu.ts';

const RUNS = Number(process.env.BENCH_OPERATOR_RUNS ?? 1_000);
const APPLY_WITH_KUBECTL = process.env.BENCH_OPERATOR_APPLY === 'kubectl';
/** The operator's reconcileConcurrency; unset: its default. */
const RECONCILE_CONCURRENCY = process.env.BENCH_OPERATOR_CONCURRENCY;
const APPLY_CONCURRENCY = 32;
const BATCH_SIZE = 100; // the local chain's
const STATUS_INTERVAL_SECONDS = 5; // the operator's default
const STEADY_WINDOW_MS = 15_000;
const PHASE_TIMEOUT_MS = 5 * 60_000;
const TARGET = { dispatchSeconds: 30, statusWritesPerRunPer5s: 1, peakRssMiB: 256 };
const MODEL_RUN = customResourceType(MODEL_RUN_KIND);
const FIELD_MANAGER = 'model-runner-bench';

const tag = randomBytes(4).toString('hex');
const namespace = `bench-operator-${tag}`;
const vhost = `bench-operator-${tag}`;
const redisPrefix = `bench-operator-${tag}:`;
const database = `bench_operator_${tag}`;
const env = stackEnv();
const kube = createKubeClients(loadKubeConfig({ KUBECONFIG: env.KUBECONFIG }));

function log(message: string): void {
  console.log(`[bench-operator ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

async function pollUntil<T>(what: string, check: () => Promise<T | undefined>, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + PHASE_TIMEOUT_MS;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`gave up waiting for ${what} after ${PHASE_TIMEOUT_MS / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

const seconds = (fromMs: number, toMs = performance.now()): number => (toMs - fromMs) / 1000;

/** What the watch saw of one run: its operator writes, with the time and phase of each status write. */
interface RunWrites {
  uid: string;
  seenAtMs: number;
  last: ModelRun;
  metadataWrites: number;
  statusWrites: { atMs: number; phase: string | undefined }[];
}

/** Counts the writes to every ModelRun of the namespace, from a watch opened before the apply. */
class WriteCounter {
  readonly runs = new Map<string, RunWrites>();
  readonly #abort = new AbortController();
  #done: Promise<void> | undefined;

  async start(): Promise<void> {
    const client = listWatchClient(kube.config);
    const query = { ...MODEL_RUN, namespace };
    let { resourceVersion } = await client.list<ModelRun>(query);
    let opened: () => void = () => undefined;
    const open = new Promise<void>((resolve) => (opened = resolve));
    // The server ends a watch when it likes (a busy API server does, minutes in): resume from the
    // last event seen, so no write goes uncounted.
    this.#done = (async () => {
      while (!this.#abort.signal.aborted) {
        await client.watch<ModelRun>(
          query,
          { resourceVersion, timeoutSeconds: 3_600, signal: this.#abort.signal, onOpen: () => opened() },
          (event) => {
            resourceVersion = event.object.metadata?.resourceVersion ?? resourceVersion;
            this.#onEvent(event);
          },
        );
        if (this.#abort.signal.aborted) break;
        log(`the write-counting watch ended; resuming at ${resourceVersion}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })().catch((error: unknown) => {
      if (!this.#abort.signal.aborted) log(`the write-counting watch failed: ${(error as Error).message}`);
    });
    await open;
  }

  #onEvent(event: WatchEvent<ModelRun>): void {
    const run = event.object;
    const name = run.metadata?.name ?? '';
    const now = performance.now();
    const known = this.runs.get(name);
    if (event.type === 'ADDED' && !known) {
      const uid = run.metadata?.uid ?? '';
      this.runs.set(name, { uid, seenAtMs: now, last: run, metadataWrites: 0, statusWrites: [] });
      return;
    }
    if (event.type !== 'MODIFIED' || !known) return;
    if (JSON.stringify(run.status ?? {}) !== JSON.stringify(known.last.status ?? {})) {
      known.statusWrites.push({ atMs: now, phase: run.status?.phase });
    } else {
      known.metadataWrites += 1;
    }
    known.last = run;
  }

  count(phase: string): number {
    return [...this.runs.values()].filter((run) => run.last.status?.phase === phase).length;
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#done;
  }
}

/** The sum of each metric's samples on the operator's /metrics. */
async function scrapeMetrics(port: number): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const sums = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^(\w+)(?:\{.*\})? (\S+)$/.exec(line);
    if (match) sums.set(match[1]!, (sums.get(match[1]!) ?? 0) + Number(match[2]));
  }
  return sums;
}

/** A run of one batch of `ingest`, executor queue. */
function runManifest(index: number, batches: number): ModelRun & { metadata: { name: string } } {
  const first = (index % batches) * BATCH_SIZE;
  return {
    apiVersion: 'modelrunner.io/v1alpha1',
    kind: 'ModelRun',
    metadata: { name: `run-${String(index).padStart(4, '0')}`, namespace },
    spec: {
      model: 'ingest',
      chain: 'local',
      blocks: { start: first, end: first + BATCH_SIZE - 1 },
      executor: 'queue',
    },
  };
}

/** Creates the runs: `APPLY_CONCURRENCY` server-side applies at a time, or one kubectl apply. */
async function applyRuns(manifests: ModelRun[]): Promise<void> {
  if (APPLY_WITH_KUBECTL) {
    const input = manifests.map((manifest) => stringify(manifest)).join('---\n');
    // A lost connection mid-apply is retried: applying the same manifest again changes nothing applied.
    for (let attempt = 1; ; attempt += 1) {
      const applied = await kubectl(
        ['apply', '--server-side', `--field-manager=${FIELD_MANAGER}`, '--filename', '-'],
        { input },
      );
      if (applied.exitCode === 0) return;
      if (attempt === 3) throw new Error(`kubectl apply failed 3 times: ${applied.stderr.trim()}`);
      log(`kubectl apply failed (${applied.stderr.trim().slice(0, 200)}); applying again`);
    }
  }
  let next = 0;
  const applier = async (): Promise<void> => {
    while (next < manifests.length) {
      const manifest = manifests[next++]!;
      for (let attempt = 1; ; attempt += 1) {
        try {
          await applyObject(kube, manifest, FIELD_MANAGER);
          break;
        } catch (error) {
          if (attempt === 3) throw error;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: APPLY_CONCURRENCY }, applier));
}

function percentile(sorted: number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? Number.NaN;
}

const verdict = (met: boolean): string => (met ? 'met' : 'MISSED');
const sum = (values: number[]): number => values.reduce((total, value) => total + value, 0);
const mean = (values: number[]): number => sum(values) / values.length;
const mib = (bytes: number | undefined): string => ((bytes ?? Number.NaN) / 2 ** 20).toFixed(0);

function startOperator(lakeDir: string): MeasuredProcess {
  return startMeasured(process.execPath, [join(repoRoot, 'operator/main.ts')], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      KUBECONFIG: env.KUBECONFIG,
      RABBITMQ_URL: vhostUrl(vhost),
      REDIS_URL: env.REDIS_URL,
      CLICKHOUSE_URL: env.CLICKHOUSE_URL,
      ETH_RPC_URL: env.ETH_RPC_URL,
      // The V8 settings of deploy/operator.yaml.
      NODE_OPTIONS: '--max-old-space-size=192 --max-semi-space-size=4',
      OPERATOR_CONFIG: stringify({
        lakeUrl: lakeDir,
        clickhouseDatabase: database,
        progressPrefix: redisPrefix,
        statusIntervalSeconds: STATUS_INTERVAL_SECONDS,
        ...(RECONCILE_CONCURRENCY ? { reconcileConcurrency: Number(RECONCILE_CONCURRENCY) } : {}),
      }),
      WATCH_NAMESPACE: namespace,
      POD_NAMESPACE: namespace,
      POD_NAME: `bench-operator-${tag}`,
      METRICS_PORT: '0',
      LOG_LEVEL: 'info',
    },
    timeoutMs: 6 * PHASE_TIMEOUT_MS,
  });
}

async function main(): Promise<void> {
  assertGnuTime();
  const redis = new IORedis.Redis(env.REDIS_URL);
  const progress = new RunProgressStore(redis, { prefix: redisPrefix });
  const lakeDir = await mkdtemp(join(tmpdir(), 'bench-operator-lake-'));
  const counter = new WriteCounter();
  let operator: MeasuredProcess | undefined;
  try {
    await installCrds();
    // Labelled as a test's: an operator deployed on the stack leaves the namespace alone.
    await kube.core.createNamespace({
      body: { metadata: { name: namespace, labels: { 'model-runner.dev/test': 'true' } } },
    });
    await createVhost(vhost);
    // Every run's batch is below anvil's tip, so ingest dispatches at once.
    const tip = await (await new AnvilSession(env.ETH_RPC_URL).init()).blockNumber();
    const batches = Math.max(1, Math.floor((tip + 1) / BATCH_SIZE));

    const running = startOperator(lakeDir);
    operator = running;
    const metricsPort = await pollUntil('the operator to listen and lead', async () => {
      const line = running
        .output()
        .stdout.split('\n')
        .find((each) => each.includes('"msg":"metrics listening"'));
      const lease = await kube.coordination
        .readNamespacedLease({ namespace, name: 'model-runner-operator' })
        .catch(() => undefined);
      return line && lease?.spec?.holderIdentity ? (JSON.parse(line) as { port: number }).port : undefined;
    });
    const atStart = {
      cpu: running.cpuSecondsSoFar() ?? 0,
      rss: running.residentMiBNow() ?? Number.NaN,
      stackCpu: stackCpuSeconds(env.MODEL_RUNNER_STACK_DIR),
    };
    await counter.start();

    log(
      `applying ${RUNS} ModelRuns (one batch of ingest each, executor queue, no consumer) ${APPLY_WITH_KUBECTL ? 'with one kubectl apply --server-side' : `by server-side apply, ${APPLY_CONCURRENCY} at a time`}`,
    );
    const applyStart = performance.now();
    await applyRuns(Array.from({ length: RUNS }, (_, index) => runManifest(index, batches)));
    const applySeconds = seconds(applyStart);
    log(`applied in ${applySeconds.toFixed(1)} s; waiting for every batch in the dispatch ledger`);

    const dispatchedAt = new Map<string, number>();
    let reportedAt = performance.now();
    await pollUntil('every run dispatched', async () => {
      if (performance.now() - reportedAt > 15_000) {
        reportedAt = performance.now();
        log(`${dispatchedAt.size} of ${RUNS} dispatched`);
      }
      const pending = [...counter.runs.values()].filter((run) => !dispatchedAt.has(run.uid));
      if (pending.length > 0) {
        const pipeline = redis.pipeline();
        for (const run of pending) pipeline.scard(progress.keys(run.uid).dispatched);
        const answers = (await pipeline.exec()) ?? [];
        const now = performance.now();
        pending.forEach((run, index) => {
          if (Number(answers[index]?.[1] ?? 0) > 0) dispatchedAt.set(run.uid, now);
        });
      }
      return dispatchedAt.size === RUNS ? true : undefined;
    });
    const allDispatchedSeconds = seconds(applyStart, Math.max(...dispatchedAt.values()));
    const latencies = [...counter.runs.values()]
      .map((run) => seconds(run.seenAtMs, dispatchedAt.get(run.uid)))
      .sort((a, b) => a - b);
    const atDispatched = {
      cpu: running.cpuSecondsSoFar() ?? 0,
      rss: running.residentMiBNow() ?? Number.NaN,
      stackCpu: stackCpuSeconds(env.MODEL_RUNNER_STACK_DIR),
      metrics: await scrapeMetrics(metricsPort),
    };
    log(`all ${RUNS} dispatched ${allDispatchedSeconds.toFixed(1)} s after the apply began`);

    await pollUntil('every run Running in status', async () =>
      counter.count('Running') === RUNS ? true : undefined,
    );
    const steadyFrom = performance.now();
    log(`every run Running; watching ${STEADY_WINDOW_MS / 1000} s of steady state`);
    await new Promise((resolve) => setTimeout(resolve, STEADY_WINDOW_MS));
    const steadyWrites = sum(
      [...counter.runs.values()].map(
        (run) => run.statusWrites.filter((write) => write.atMs >= steadyFrom).length,
      ),
    );
    const cpuAtSteadyEnd = running.cpuSecondsSoFar() ?? 0;

    log('reporting every batch succeeded, as a worker would; waiting for every run to succeed');
    const reportStart = performance.now();
    for (const run of counter.runs.values()) {
      const first = (Number(run.last.metadata?.name?.slice('run-'.length)) % batches) * BATCH_SIZE;
      await progress.recordOutcome({
        runUid: run.uid,
        batchId: batchIdOf('local', 'ingest', first),
        outcome: 'succeeded',
        blocks: BATCH_SIZE,
        rows: 0,
        now: new Date(),
      });
    }
    await pollUntil('every run Succeeded', async () =>
      counter.count('Succeeded') === RUNS ? true : undefined,
    );
    const succeededSeconds = seconds(reportStart);
    const cpuAtSucceeded = running.cpuSecondsSoFar() ?? 0;
    // The operator's writes over a run's whole life here (Pending → Running → Succeeded); the
    // deletion below is the bench's own write.
    const all = [...counter.runs.values()];
    const statusPerRun = all.map((run) => run.statusWrites.length);
    const metadataPerRun = all.map((run) => run.metadataWrites);

    log('deleting the runs (the operator removes its finalizer)');
    await kubectlOk(['delete', 'modelruns', '--all', '--namespace', namespace, '--wait=false']);
    await pollUntil(
      'the runs to be gone',
      async () => {
        const left = (await kube.customObjects.listNamespacedCustomObject({
          ...MODEL_RUN,
          namespace,
          limit: 1,
        })) as { items: unknown[] };
        return left.items.length === 0 ? true : undefined;
      },
      1_000,
    );
    const cpuAtDeleted = running.cpuSecondsSoFar() ?? 0;
    running.signal('SIGTERM');
    const cost = await running.cost;
    operator = undefined;

    const runningToRunningGaps = all.flatMap((run) =>
      run.statusWrites.flatMap((write, index) => {
        const before = run.statusWrites[index - 1];
        return before?.phase === 'Running' && write.phase === 'Running'
          ? [seconds(before.atMs, write.atMs)]
          : [];
      }),
    );
    const runningWritesPerRunPer5s =
      steadyWrites / RUNS / (STEADY_WINDOW_MS / 1000 / STATUS_INTERVAL_SECONDS);
    const reconciles = atDispatched.metrics.get('model_runner_operator_reconciles_total') ?? Number.NaN;
    const reconcileMs =
      ((atDispatched.metrics.get('model_runner_operator_reconcile_duration_seconds_sum') ?? Number.NaN) /
        (atDispatched.metrics.get('model_runner_operator_reconcile_duration_seconds_count') ?? Number.NaN)) *
      1000;

    console.log('');
    console.log(
      `Operator dispatch: ${RUNS} ModelRuns applied at once (one 100-block batch of ingest each, executor queue, no consumer)`,
    );
    console.log(
      `machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), load average ${loadavg()
        .map((value) => value.toFixed(1))
        .join(' ')}`,
    );
    console.log(
      `  apply (${APPLY_WITH_KUBECTL ? 'one kubectl apply --server-side' : `server-side apply, ${APPLY_CONCURRENCY} at a time`}): ${applySeconds.toFixed(1)} s`,
    );
    console.log(
      `  all dispatched (dispatch ledger) after the apply began: ${allDispatchedSeconds.toFixed(1)} s   target ≤ ${TARGET.dispatchSeconds} s: ${verdict(allDispatchedSeconds <= TARGET.dispatchSeconds)}`,
    );
    console.log(
      `  per run, from its creation to its dispatch: p50 ${percentile(latencies, 0.5).toFixed(1)} s, p95 ${percentile(latencies, 0.95).toFixed(1)} s, max ${latencies.at(-1)!.toFixed(1)} s`,
    );
    console.log(
      `  reconciles until all were dispatched: ${reconciles} (${(reconciles / RUNS).toFixed(2)} per run), mean ${reconcileMs.toFixed(0)} ms each`,
    );
    console.log(
      `  API-server writes per run (Pending → Running → Succeeded): ${mean(statusPerRun).toFixed(2)} status (max ${Math.max(...statusPerRun)}), ${mean(metadataPerRun).toFixed(2)} metadata (max ${Math.max(...metadataPerRun)}); ${sum(statusPerRun) + sum(metadataPerRun)} in all`,
    );
    const throttled =
      runningWritesPerRunPer5s <= TARGET.statusWritesPerRunPer5s &&
      runningToRunningGaps.every((gap) => gap >= STATUS_INTERVAL_SECONDS);
    console.log(
      `  status writes while Running: ${steadyWrites} in a steady ${STEADY_WINDOW_MS / 1000} s = ${runningWritesPerRunPer5s.toFixed(3)} per run per 5 s; Running → Running writes in the whole run: ${runningToRunningGaps.length}${runningToRunningGaps.length > 0 ? `, shortest gap ${Math.min(...runningToRunningGaps).toFixed(1)} s` : ''}   target ≤ ${TARGET.statusWritesPerRunPer5s} per run per 5 s: ${verdict(throttled)}`,
    );
    console.log(`  all Succeeded after their outcomes were reported: ${succeededSeconds.toFixed(1)} s`);
    console.log(
      `  operator CPU: ${(atDispatched.cpu - atStart.cpu).toFixed(1)} s to dispatch, ${(cpuAtSteadyEnd - atDispatched.cpu).toFixed(1)} s in the steady window, ${(cpuAtSucceeded - cpuAtSteadyEnd).toFixed(1)} s to succeed, ${(cpuAtDeleted - cpuAtSucceeded).toFixed(1)} s to delete; ${cost.cpuSeconds.toFixed(1)} s in all (${cost.userSeconds.toFixed(1)} user + ${cost.systemSeconds.toFixed(1)} system, GNU time, start-up included)`,
    );
    console.log(
      `  the stack's busiest services from the apply to all dispatched (CPU): ${describeStackCpu(atStart.stackCpu, atDispatched.stackCpu)}`,
    );
    console.log(
      `  operator RSS: ${atStart.rss.toFixed(0)} MiB leading with no run, ${atDispatched.rss.toFixed(0)} MiB with all dispatched (V8 heap in use ${mib(atDispatched.metrics.get('model_runner_operator_nodejs_heap_size_used_bytes'))} MiB of ${mib(atDispatched.metrics.get('model_runner_operator_nodejs_heap_size_total_bytes'))}); peak ${cost.peakRssMiB.toFixed(0)} MiB   target < ${TARGET.peakRssMiB} MiB: ${verdict(cost.peakRssMiB < TARGET.peakRssMiB)}`,
    );
  } finally {
    if (operator) {
      operator.signal('SIGKILL');
      await operator.cost.catch(() => undefined);
      console.error(operator.output().stderr.slice(-2_000));
    }
    await counter.stop().catch(() => undefined);
    // The operator is gone: drop the finalizers it left, so the namespace can go.
    await releaseModelRuns(kube, namespace).catch(() => undefined);
    await kubectl(['delete', 'namespace', namespace, '--wait=false', '--ignore-not-found']);
    await deleteVhost(vhost).catch(() => undefined);
    await deleteRedisKeys(redis).catch(() => undefined);
    redis.disconnect();
    const clickhouse = createServerClient(env.CLICKHOUSE_URL);
    await clickhouse.command({ query: `DROP DATABASE IF EXISTS ${database}` }).catch(() => undefined);
    await clickhouse.close();
    await rm(lakeDir, { recursive: true, force: true });
  }
}

async function deleteRedisKeys(redis: IORedis.Redis): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${redisPrefix}*`, 'COUNT', 1_000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

await main();
process.exit(0);
