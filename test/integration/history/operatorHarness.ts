// Everything a run-history test of the operator needs, all its own: a namespace (the operator
// watches only it and keeps its Lease there), a Postgres database reached through a loopback
// proxy the test can cut, a Redis prefix, a ClickHouse database, a lake folder, the worker
// Secret, and a local pod runner started from this checkout (worker pods must run this
// branch's worker, which reports batch facts). Operators run as child processes.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import IORedis from 'ioredis';
import { createServerClient } from '../../../adapters/clickhouse/clickhouseClient.ts';
import { stringify as toYaml } from 'yaml';
import { CustomResourceClient, customResourceType } from '../../../adapters/kube/index.ts';
import { RunProgressStore } from '../../../adapters/redis/progress.ts';
import type { ModelRunBatchRow, ModelRunRow, ModelRunTransitionRow } from '../../../contract/runHistory.ts';
import { findRun, runBatches, runTransitions } from '../../../adapters/postgres/runHistoryQueries.ts';
import type { ModelRun } from '../../../crds/generated/types.ts';
import { MODEL_RUN } from '../../../crds/kinds.ts';
import { repoRoot, stackEnv } from '../../../devtools/stackEnv.ts';
import { installCrds } from '../../support/crds.ts';
import { createTestNamespace, deleteTestNamespace, kubeClients, pollUntil } from '../../support/kube.ts';
import {
  logTail,
  retireLocalPodRunner,
  startLocalPodRunner,
  waitUntilNodeReady,
} from '../../support/localPodRunner.ts';
import { uniqueIdentifier, uniqueName } from '../../support/names.ts';
import { TcpProxy } from '../worker/tcpProxy.ts';
import { createTestDatabase, databaseUrl, type TestDatabase } from './support.ts';

export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** `node operator/main.ts` as a child process: its pino lines kept, stopped by its own PID. */
export class OperatorProcess {
  readonly identity: string;
  readonly lines: LogLine[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly #child: ChildProcess;
  #stderr = '';

  constructor(identity: string, env: Record<string, string>) {
    this.identity = identity;
    this.#child = spawn(process.execPath, [join(repoRoot, 'operator', 'main.ts')], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buffer = '';
    this.#child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (buffer + chunk).split('\n');
      buffer = parts.pop() ?? '';
      for (const part of parts.filter((line) => line.trim() !== '')) {
        try {
          this.lines.push(JSON.parse(part) as LogLine);
        } catch {
          this.lines.push({ level: 0, msg: part });
        }
      }
    });
    this.#child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.#stderr += chunk));
    this.exited = new Promise((resolve) =>
      this.#child.once('exit', (code, signal) => resolve({ code, signal })),
    );
  }

  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  logged(message: string): LogLine[] {
    return this.lines.filter((line) => line.msg === message);
  }

  async waitForLog(message: string, timeoutMs = 30_000): Promise<LogLine> {
    return pollUntil(
      `operator ${this.identity} to log "${message}"`,
      () => {
        if (!this.running) throw new Error(`the operator exited:\n${this.recentOutput()}`);
        return this.logged(message)[0];
      },
      { timeoutMs, describe: () => this.recentOutput() },
    );
  }

  recentOutput(): string {
    return [...this.lines.slice(-20).map((line) => JSON.stringify(line)), this.#stderr.slice(-2_000)].join(
      '\n',
    );
  }

  /** SIGTERM (the operator releases its Lease) and wait for the exit. */
  async stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.running) this.#child.kill('SIGTERM');
    return this.exited;
  }
}

export const BATCH_SIZE = 100;

export interface HistoryWorldOptions {
  /** Start a pod runner from this checkout (runs that really work batches need one). */
  podRunner: boolean;
}

export class HistoryTestWorld {
  readonly redisPrefix = `${uniqueName('hist')}:`;
  readonly clickhouseDatabase = uniqueIdentifier('hist');
  readonly nodeName = uniqueName('hist-node');
  namespace = '';
  workDir = '';
  database!: TestDatabase;
  /** The operators reach Postgres through this: close it for an outage. */
  proxy!: TcpProxy;
  redis!: InstanceType<typeof IORedis.Redis>;
  progress!: RunProgressStore;
  runs!: CustomResourceClient<ModelRun>;
  readonly operators: OperatorProcess[] = [];
  #runner: ChildProcess | undefined;

  static async create(options: HistoryWorldOptions): Promise<HistoryTestWorld> {
    const world = new HistoryTestWorld();
    await installCrds();
    world.namespace = await createTestNamespace('hist');
    world.workDir = mkdtempSync(join(tmpdir(), 'hist-'));
    world.database = await createTestDatabase('test_hist');
    const server = new URL(stackEnv().DATABASE_URL);
    world.proxy = await TcpProxy.create({ host: server.hostname, port: Number(server.port) }, true);
    world.redis = new IORedis.Redis(stackEnv().REDIS_URL);
    world.progress = new RunProgressStore(world.redis, { prefix: world.redisPrefix });
    world.runs = new CustomResourceClient<ModelRun>(
      kubeClients().customObjects,
      customResourceType(MODEL_RUN),
    );
    const env = stackEnv();
    await kubeClients().core.createNamespacedSecret({
      namespace: world.namespace,
      body: {
        metadata: { name: 'model-runner-worker' },
        stringData: {
          CLICKHOUSE_URL: env.CLICKHOUSE_URL,
          REDIS_URL: env.REDIS_URL,
          ETH_RPC_URL: env.ETH_RPC_URL,
        },
      },
    });
    if (options.podRunner) {
      world.#runner = startLocalPodRunner(world.nodeName, world.runnerLogFile);
      await waitUntilNodeReady(world.nodeName, () => logTail(world.runnerLogFile));
    }
    return world;
  }

  get runnerLogFile(): string {
    return join(this.workDir, 'pod-runner.log');
  }

  /** The operators' DATABASE_URL: the test database, through the proxy. */
  get proxiedDatabaseUrl(): string {
    const server = new URL(stackEnv().DATABASE_URL);
    server.host = `127.0.0.1:${this.proxy.port}`;
    return databaseUrl(this.database.name, server.toString());
  }

  startOperator(identity = uniqueName('op')): OperatorProcess {
    const env = stackEnv();
    const config = {
      lakeUrl: join(this.workDir, 'lake'),
      clickhouseDatabase: this.clickhouseDatabase,
      progressPrefix: this.redisPrefix,
      statusIntervalSeconds: 1,
      waitPollSeconds: 1,
      logLevel: 'debug',
      worker: {
        schedulerName: this.nodeName,
        env: { WORKER_SINK: 'none', METRICS_PORT: '0', WORKER_SHUTDOWN_GRACE_MS: '2000' },
      },
    };
    const operator = new OperatorProcess(identity, {
      KUBECONFIG: env.KUBECONFIG,
      RABBITMQ_URL: env.RABBITMQ_URL,
      REDIS_URL: env.REDIS_URL,
      CLICKHOUSE_URL: env.CLICKHOUSE_URL,
      ETH_RPC_URL: env.ETH_RPC_URL,
      DATABASE_URL: this.proxiedDatabaseUrl,
      WATCH_NAMESPACE: this.namespace,
      POD_NAMESPACE: this.namespace,
      POD_NAME: identity,
      METRICS_PORT: '0',
      OPERATOR_CONFIG: toYaml(config),
    });
    this.operators.push(operator);
    return operator;
  }

  async createRun(name: string, spec: ModelRun['spec']): Promise<ModelRun> {
    return this.runs.create(this.namespace, { metadata: { name, namespace: this.namespace }, spec });
  }

  async readRun(name: string): Promise<ModelRun | undefined> {
    return this.runs.get(this.namespace, name);
  }

  /** Waits until the run reaches one of `phases` and returns it as the API server has it. */
  async waitForPhase(name: string, phases: string[], timeoutMs = 90_000): Promise<ModelRun> {
    let seen: ModelRun | undefined;
    return pollUntil(
      `run ${name} to be ${phases.join(' or ')}`,
      async () => {
        seen = await this.readRun(name);
        return phases.includes(seen?.status?.phase ?? '') ? seen : undefined;
      },
      { timeoutMs, intervalMs: 250, describe: () => this.describe(seen) },
    );
  }

  async waitUntilGone(name: string, timeoutMs = 60_000): Promise<void> {
    await pollUntil(`run ${name} to be deleted`, async () => (await this.readRun(name)) === undefined, {
      timeoutMs,
      intervalMs: 250,
    });
  }

  /** The run's rows in the history, read directly (not through the proxy). */
  async history(uid: string): Promise<{
    run: ModelRunRow | undefined;
    transitions: ModelRunTransitionRow[];
    batches: ModelRunBatchRow[];
  }> {
    // One snapshot: the mirror writes a run, its transitions and its batches in one
    // transaction, and three reads on different connections could straddle its commit.
    const client = await this.database.pool.connect();
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const run = await findRun(client, { uid });
      const transitions = await runTransitions(client, uid);
      const batches = await runBatches(client, uid);
      await client.query('COMMIT');
      return { run, transitions, batches };
    } finally {
      client.release();
    }
  }

  /** Waits until the run's history satisfies `done`. */
  async waitForHistory(
    what: string,
    uid: string,
    done: (history: Awaited<ReturnType<HistoryTestWorld['history']>>) => boolean,
    timeoutMs = 30_000,
  ): Promise<Awaited<ReturnType<HistoryTestWorld['history']>>> {
    let seen: Awaited<ReturnType<HistoryTestWorld['history']>> | undefined;
    return pollUntil(
      what,
      async () => {
        seen = await this.history(uid);
        return done(seen) ? seen : undefined;
      },
      { timeoutMs, intervalMs: 250, describe: () => ({ history: seen, operators: this.operatorOutput() }) },
    );
  }

  describe(run: ModelRun | undefined): string {
    return `${JSON.stringify(run?.status ?? null)}\n${this.operatorOutput()}\npod runner:\n${logTail(this.runnerLogFile)}`;
  }

  operatorOutput(): string {
    return this.operators.map((operator) => `${operator.identity}:\n${operator.recentOutput()}`).join('\n');
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.operators.map((operator) => operator.stop()));
    // With no operator left to finalize them, the runs' finalizers would hold the namespace.
    for (const run of (await this.runs.list({ namespace: this.namespace })).items) {
      for (const finalizer of run.metadata?.finalizers ?? []) await this.runs.removeFinalizer(run, finalizer);
    }
    await retireLocalPodRunner(this.#runner, this.nodeName, this.namespace, () =>
      logTail(this.runnerLogFile),
    );
    await this.proxy?.close();
    if (this.namespace) await deleteTestNamespace(this.namespace);
    const keys = await this.redis.keys(`${this.redisPrefix}*`);
    if (keys.length > 0) await this.redis.del(...keys);
    this.redis.disconnect();
    await this.database?.drop();
    const clickhouse = createServerClient(stackEnv().CLICKHOUSE_URL);
    await clickhouse
      .command({ query: `DROP DATABASE IF EXISTS ${this.clickhouseDatabase}` })
      .catch(() => undefined);
    await clickhouse.close();
    if (this.workDir) rmSync(this.workDir, { recursive: true, force: true });
  }
}
