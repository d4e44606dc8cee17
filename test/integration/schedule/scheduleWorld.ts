// The world of a ModelSchedule integration test: its own namespace, a chain of its own (a unique
// name, small batches, its own RPC env var) in a chains file the operator and the workers share,
// its own ClickHouse database, Redis prefix and lake folder, optionally a private anvil, and
// operator processes (`node operator/main.ts`) watching only its namespace. Pods run through the
// stack's local pod runner (job executor: no WorkerPool needed). Everything started here is
// stopped by cleanup(), by PID.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify as toYaml } from 'yaml';
import { createServerClient } from '../../../adapters/clickhouse/clickhouseClient.ts';
import { ClickHouseMarkerStore } from '../../../adapters/clickhouse/markerStore.ts';
import { CustomResourceClient, customResourceType, mergePatch } from '../../../adapters/kube/index.ts';
import { type AnvilProcess, startAnvil } from '../../../bench/benchChain.ts';
import type { ModelRun, ModelSchedule } from '../../../crds/generated/types.ts';
import { MODEL_RUN, MODEL_SCHEDULE } from '../../../crds/kinds.ts';
import { parseChains } from '../../../dataplane/chains.ts';
import type { NewMarker } from '../../../dataplane/markers.ts';
import { dataPath } from '../../../dataplane/paths.ts';
import { installCrds } from '../../support/crds.ts';
import { anvilChainsDocument } from '../../../devtools/anvilChain.ts';
import { keepScheduleCrdInstalled } from '../../../devtools/scheduleCrdGuard.ts';
import {
  createTestNamespace,
  deleteTestNamespace,
  kubeClients,
  kubeConfig,
  LOCAL_POD_RUNNER,
  pollUntil,
} from '../../support/kube.ts';
import { uniqueIdentifier, uniqueName } from '../../support/names.ts';
import { repoRoot, stackEnv } from '../../../devtools/stackEnv.ts';

export interface WorldOptions {
  /** Blocks per batch of the test chain (default 10). */
  batchSize?: number;
  /** Start a private anvil for the chain (default false). */
  anvil?: boolean;
  /** Create the worker Secret, so Job pods can start (default true). Without it runs stay Pending. */
  workerSecret?: boolean;
}

export interface OperatorProcess {
  child: ChildProcess;
  logFile: string;
  /** The operator's log so far, one parsed JSON line each. */
  lines(): Record<string, unknown>[];
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export class ScheduleWorld {
  readonly chain = uniqueIdentifier('s');
  readonly rpcEnvVar = `RPC_${uniqueIdentifier('S').toUpperCase()}`;
  readonly database = uniqueIdentifier('sched');
  readonly progressPrefix = `${uniqueName('sched')}:`;
  readonly batchSize: number;
  namespace = '';
  dir = '';
  chainsFile = '';
  anvil: AnvilProcess | undefined;
  markers!: ClickHouseMarkerStore;
  readonly schedules: CustomResourceClient<ModelSchedule>;
  readonly runs: CustomResourceClient<ModelRun>;
  readonly #operators: OperatorProcess[] = [];
  #stopCrdGuard: (() => void) | undefined;

  private constructor(options: WorldOptions) {
    this.batchSize = options.batchSize ?? 10;
    const { customObjects } = kubeClients();
    this.schedules = new CustomResourceClient(customObjects, customResourceType(MODEL_SCHEDULE));
    this.runs = new CustomResourceClient(customObjects, customResourceType(MODEL_RUN));
  }

  static async create(prefix: string, options: WorldOptions = {}): Promise<ScheduleWorld> {
    const world = new ScheduleWorld(options);
    await installCrds();
    world.#stopCrdGuard = keepScheduleCrdInstalled(kubeConfig());
    world.namespace = await createTestNamespace(prefix);
    world.dir = await mkdtemp(join(tmpdir(), `${prefix}-`));
    world.chainsFile = join(world.dir, 'chains.json');
    const chains = anvilChainsDocument(world.chain, world.rpcEnvVar, world.batchSize);
    parseChains(chains);
    await writeFile(world.chainsFile, JSON.stringify(chains));
    world.markers = new ClickHouseMarkerStore({
      client: createServerClient(stackEnv().CLICKHOUSE_URL),
      ownsClient: true,
      database: world.database,
      chains: parseChains(chains),
    });
    await world.markers.ensureTable();
    if (options.anvil) world.anvil = await startAnvil();
    if (options.workerSecret ?? true) await world.#createWorkerSecret();
    return world;
  }

  get lakeDir(): string {
    return join(this.dir, 'lake');
  }

  async #createWorkerSecret(): Promise<void> {
    const env = stackEnv();
    await kubeClients().core.createNamespacedSecret({
      namespace: this.namespace,
      body: {
        metadata: { name: 'model-runner-worker' },
        stringData: {
          CLICKHOUSE_URL: env.CLICKHOUSE_URL,
          REDIS_URL: env.REDIS_URL,
          [this.rpcEnvVar]: this.anvil?.url ?? 'http://127.0.0.1:9',
        },
      },
    });
  }

  /** The operator's configuration document: this world's chain, lake, database and prefix. */
  operatorConfig(leaseName: string): string {
    return toYaml({
      chainsFile: this.chainsFile,
      lakeUrl: this.lakeDir,
      clickhouseDatabase: this.database,
      progressPrefix: this.progressPrefix,
      leaseName,
      statusIntervalSeconds: 1,
      waitPollSeconds: 1,
      logLevel: 'info',
      worker: {
        schedulerName: LOCAL_POD_RUNNER,
        env: {
          WORKER_CHAINS_FILE: this.chainsFile,
          WORKER_SINK: 'none',
          METRICS_PORT: '0',
          LOG_LEVEL: 'warn',
        },
      },
    });
  }

  /** Starts `node operator/main.ts` watching this namespace; `leaseName` apart makes a second leader. */
  async startOperator(options: { leaseName?: string; identity?: string } = {}): Promise<OperatorProcess> {
    const env = stackEnv();
    const identity = options.identity ?? uniqueName('op');
    const logFile = join(this.dir, `${identity}.log`);
    const log = openSync(logFile, 'a');
    const child = spawn(process.execPath, [join(repoRoot, 'operator/main.ts')], {
      cwd: repoRoot,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        KUBECONFIG: env.KUBECONFIG,
        RABBITMQ_URL: env.RABBITMQ_URL,
        REDIS_URL: env.REDIS_URL,
        CLICKHOUSE_URL: env.CLICKHOUSE_URL,
        ...(this.anvil ? { [this.rpcEnvVar]: this.anvil.url } : {}),
        WATCH_NAMESPACE: this.namespace,
        POD_NAMESPACE: this.namespace,
        POD_NAME: identity,
        METRICS_PORT: '0',
        OPERATOR_CONFIG: this.operatorConfig(options.leaseName ?? 'model-runner-operator'),
      },
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    const lines = () =>
      readFileSync(logFile, 'utf8')
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    const operator: OperatorProcess = {
      child,
      logFile,
      lines,
      stop: async (signal = 'SIGTERM') => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill(signal);
        const timedOut = await Promise.race([exited.then(() => false), sleep(15_000).then(() => true)]);
        if (timedOut) {
          child.kill('SIGKILL');
          await exited;
        }
      },
    };
    this.#operators.push(operator);
    await pollUntil(
      `operator ${identity} to lead and reconcile`,
      () => {
        if (child.exitCode !== null)
          throw new Error(`operator exited ${child.exitCode}: ${readFileSync(logFile, 'utf8').slice(-2000)}`);
        return lines().some(
          (line) => line.msg === 'reconciling as leader' || line.msg === 'metrics listening',
        );
      },
      { timeoutMs: 30_000 },
    );
    return operator;
  }

  async createSchedule(name: string, spec: ModelSchedule['spec']): Promise<ModelSchedule> {
    return this.schedules.create(this.namespace, {
      apiVersion: 'modelrunner.io/v1alpha1',
      kind: 'ModelSchedule',
      metadata: { name, namespace: this.namespace },
      spec,
    });
  }

  async schedule(name: string): Promise<ModelSchedule> {
    const found = await this.schedules.get(this.namespace, name);
    if (!found) throw new Error(`ModelSchedule ${name} is gone`);
    return found;
  }

  async patchSchedule(name: string, spec: Partial<ModelSchedule['spec']>): Promise<void> {
    await kubeClients().customObjects.patchNamespacedCustomObject(
      { ...this.schedules.type, namespace: this.namespace, name, body: { spec } },
      mergePatch,
    );
  }

  /** The ModelRuns of a schedule (by its label), oldest first. */
  async runsOf(schedule: string): Promise<ModelRun[]> {
    const list = await this.runs.list({
      namespace: this.namespace,
      labelSelector: `modelrunner.io/schedule=${schedule}`,
    });
    return list.items.sort((a, b) =>
      String(a.metadata?.creationTimestamp).localeCompare(String(b.metadata?.creationTimestamp)),
    );
  }

  /** Waits until the schedule's status satisfies `check`, and returns what `check` returned. */
  async waitForStatus<T>(
    name: string,
    what: string,
    check: (schedule: ModelSchedule) => Promise<T | undefined | null | false> | T | undefined | null | false,
    timeoutMs = 60_000,
  ): Promise<T> {
    let last: ModelSchedule | undefined;
    return pollUntil(
      what,
      async () => {
        last = await this.schedule(name);
        return check(last);
      },
      { timeoutMs, intervalMs: 250, describe: () => last?.status },
    );
  }

  /** Markers that make batches complete for a root path without writing any file (for planning tests). */
  async writeCompleteMarkers(rootPath: string, batchStarts: readonly number[]): Promise<void> {
    const markers: NewMarker[] = batchStarts.map((minBlock) => ({
      chain: this.chain,
      dt: '2026-01-01',
      rootPath,
      dataPath: dataPath(rootPath, this.chain, '2026-01-01', minBlock),
      minBlock,
      maxBlock: minBlock + this.batchSize,
      rowCount: 0,
      numParts: 1,
      processName: 'test',
      writerName: 'test',
    }));
    await this.markers.writeMarkers(markers);
  }

  /** Anvil: mine a block every `seconds` (0 stops interval mining). */
  async mineEvery(seconds: number): Promise<void> {
    await this.#anvilCall('evm_setIntervalMining', [seconds]);
  }

  async mine(blocks: number): Promise<void> {
    await this.#anvilCall('anvil_mine', [`0x${blocks.toString(16)}`]);
  }

  async blockNumber(): Promise<number> {
    return Number(await this.#anvilCall('eth_blockNumber', []));
  }

  async #anvilCall(method: string, params: unknown[]): Promise<unknown> {
    if (!this.anvil) throw new Error('this world has no anvil');
    const response = await fetch(this.anvil.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    });
    const body = (await response.json()) as { result?: unknown; error?: { message: string } };
    if (body.error) throw new Error(`anvil ${method}: ${body.error.message}`);
    return body.result;
  }

  /** With its operators gone nothing would remove the runs' finalizer, and the namespace would never go. */
  async #dropRunFinalizers(): Promise<void> {
    const { items } = await this.runs.list({ namespace: this.namespace });
    for (const run of items) {
      await kubeClients()
        .customObjects.patchNamespacedCustomObject(
          {
            ...this.runs.type,
            namespace: this.namespace,
            name: run.metadata!.name!,
            body: { metadata: { finalizers: null } },
          },
          mergePatch,
        )
        .catch(() => undefined);
    }
  }

  async cleanup(): Promise<void> {
    this.#stopCrdGuard?.();
    for (const operator of this.#operators) await operator.stop().catch(() => undefined);
    await this.anvil?.stop().catch(() => undefined);
    await this.#dropRunFinalizers().catch(() => undefined);
    await deleteTestNamespace(this.namespace).catch(() => undefined);
    await this.markers.close().catch(() => undefined);
    await createServerClient(stackEnv().CLICKHOUSE_URL)
      .command({ query: `DROP DATABASE IF EXISTS \`${this.database}\`` })
      .catch(() => undefined);
    // SCHEDULE_TEST_KEEP=1 keeps the operators' logs and the lake for a look after a failure.
    if (process.env.SCHEDULE_TEST_KEEP) process.stderr.write(`kept ${this.dir}\n`);
    else await rm(this.dir, { recursive: true, force: true });
  }
}
