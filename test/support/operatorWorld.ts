// A private world for operator tests on the local stack: a namespace (labelled as a test's, so
// a deployed operator leaves it alone), a RabbitMQ vhost, a Redis key prefix, a ClickHouse
// database, a lake folder and a Kafka sink env of its own; the worker Secret in the namespace;
// operator processes started as children (WATCH_NAMESPACE = the namespace, the Lease there too)
// and stopped by PID; worker Deployments run by the stack's local pod runner.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Deployment } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import {
  CustomResourceClient,
  applyObject,
  customResourceType,
  findOrUndefined,
} from '../../adapters/kube/index.ts';
import { createServerClient } from '../../adapters/clickhouse/clickhouseClient.ts';
import type { ModelRun } from '../../crds/generated/types.ts';
import { MODEL_RUN } from '../../crds/kinds.ts';
import { releaseModelRuns } from '../../devtools/modelRunRelease.ts';
import { createVhost, deleteVhost, vhostUrl } from '../../devtools/rabbitmqVhosts.ts';
import { repoRoot, stackEnv } from '../../devtools/stackEnv.ts';
import { createTestNamespace, deleteTestNamespace, installCrds } from './crds.ts';
import { isProcessAlive, kubeClients, LOCAL_POD_RUNNER, pollUntil } from './kube.ts';
import { freePort } from './freePort.ts';
import { uniqueIdentifier, uniqueName } from './names.ts';

const NODE = join(repoRoot, 'node_modules/.bin/node');

/** One operator process of a test. */
export class OperatorProcess {
  readonly identity: string;
  readonly metricsPort: number;
  readonly child: ChildProcess;
  output = '';
  readonly exited: Promise<number | null>;

  constructor(identity: string, metricsPort: number, env: Record<string, string>) {
    this.identity = identity;
    this.metricsPort = metricsPort;
    this.child = spawn(NODE, [join(repoRoot, 'operator/main.ts')], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child
      .stdout!.setEncoding('utf8')
      .on('data', (chunk: string) => (this.output = (this.output + chunk).slice(-200_000)));
    this.child
      .stderr!.setEncoding('utf8')
      .on('data', (chunk: string) => (this.output = (this.output + chunk).slice(-200_000)));
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** SIGTERM: the operator releases its Lease and exits. */
  async stop(): Promise<void> {
    if (!isProcessAlive(this.pid)) return;
    this.child.kill('SIGTERM');
    await this.exited;
  }

  /** SIGKILL: a crash, the Lease is left to expire. */
  async kill(): Promise<void> {
    if (!isProcessAlive(this.pid)) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** The sum of a counter's samples on /metrics whose labels include `labels`. */
  async counter(name: string, labels: Record<string, string> = {}): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${this.metricsPort}/metrics`)).text();
    let total = 0;
    for (const line of text.split('\n')) {
      const match = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!match || match[1] !== name) continue;
      const sample = Object.fromEntries(
        [...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
      );
      if (Object.entries(labels).every(([key, value]) => sample[key] === value)) total += Number(match[3]);
    }
    return total;
  }

  lines(): Record<string, unknown>[] {
    return this.output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }
}

export interface OperatorWorldOptions {
  /** Extra keys of the operator configuration document. */
  config?: Record<string, unknown>;
}

export class OperatorWorld {
  readonly name: string;
  namespace = '';
  readonly vhost: string;
  readonly redisPrefix: string;
  readonly database: string;
  readonly sinkEnv: string;
  lakeDir = '';
  readonly operators: OperatorProcess[] = [];
  readonly runs: CustomResourceClient<ModelRun>;
  readonly #options: OperatorWorldOptions;

  private constructor(name: string, options: OperatorWorldOptions) {
    this.name = name;
    this.#options = options;
    this.vhost = uniqueName(`test-${name}`);
    this.redisPrefix = `${uniqueName(`test-${name}`)}:`;
    this.database = uniqueIdentifier(`test_${name.replaceAll('-', '_')}`);
    this.sinkEnv = uniqueIdentifier('t').replaceAll('_', '');
    this.runs = new CustomResourceClient<ModelRun>(
      kubeClients().customObjects,
      customResourceType(MODEL_RUN),
    );
  }

  static async create(name: string, options: OperatorWorldOptions = {}): Promise<OperatorWorld> {
    const world = new OperatorWorld(name, options);
    await installCrds();
    world.namespace = await createTestNamespace(`op-${name}`);
    world.lakeDir = await mkdtemp(join(tmpdir(), `${world.vhost}-lake-`));
    await createVhost(world.vhost);
    await world.applyWorkerSecret();
    return world;
  }

  get rabbitmqUrl(): string {
    return vhostUrl(this.vhost);
  }

  /** The namespace's worker Secret: what worker pods read as credentials. */
  async applyWorkerSecret(): Promise<void> {
    const env = stackEnv();
    await applyObject(
      kubeClients(),
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'model-runner-worker', namespace: this.namespace },
        stringData: {
          RABBITMQ_URL: this.rabbitmqUrl,
          REDIS_URL: env.REDIS_URL,
          CLICKHOUSE_URL: env.CLICKHOUSE_URL,
          KAFKA_BROKERS: env.KAFKA_BROKERS,
          ETH_RPC_URL: env.ETH_RPC_URL,
        },
      },
      'model-runner-test',
    );
  }

  /** The non-secret settings the operator gives every worker pod. */
  workerEnv(): Record<string, string> {
    return {
      LAKE_URL: this.lakeDir,
      CLICKHOUSE_DATABASE: this.database,
      SINK_ENV: this.sinkEnv,
      REDIS_PROGRESS_PREFIX: this.redisPrefix,
      METRICS_PORT: '0',
    };
  }

  operatorConfig(): string {
    return stringify({
      lakeUrl: this.lakeDir,
      clickhouseDatabase: this.database,
      sinkEnv: this.sinkEnv,
      progressPrefix: this.redisPrefix,
      statusIntervalSeconds: 1,
      waitPollSeconds: 1,
      worker: { schedulerName: LOCAL_POD_RUNNER, env: { METRICS_PORT: '0' } },
      ...this.#options.config,
    });
  }

  /** Starts an operator process; `identity` names it in the Lease. */
  async startOperator(
    identity = uniqueName('operator'),
    extraEnv: Record<string, string> = {},
  ): Promise<OperatorProcess> {
    const env = stackEnv();
    const metricsPort = await freePort();
    const operator = new OperatorProcess(identity, metricsPort, {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      KUBECONFIG: env.KUBECONFIG,
      RABBITMQ_URL: this.rabbitmqUrl,
      REDIS_URL: env.REDIS_URL,
      CLICKHOUSE_URL: env.CLICKHOUSE_URL,
      ETH_RPC_URL: env.ETH_RPC_URL,
      OPERATOR_CONFIG: this.operatorConfig(),
      WATCH_NAMESPACE: this.namespace,
      POD_NAMESPACE: this.namespace,
      POD_NAME: identity,
      METRICS_PORT: String(metricsPort),
      LOG_LEVEL: 'info',
      ...extraEnv,
    });
    this.operators.push(operator);
    return operator;
  }

  /** The identity holding a fresh leader Lease in the namespace, once there is one. */
  async leader(timeoutMs = 30_000): Promise<string> {
    return pollUntil(
      'a leader',
      async () => {
        const lease = await findOrUndefined(() =>
          kubeClients().coordination.readNamespacedLease({
            namespace: this.namespace,
            name: 'model-runner-operator',
          }),
        );
        const renewed = lease?.spec?.renewTime ? Date.parse(String(lease.spec.renewTime)) : 0;
        return lease?.spec?.holderIdentity && Date.now() - renewed < 10_000
          ? lease.spec.holderIdentity
          : undefined;
      },
      { timeoutMs, intervalMs: 200 },
    );
  }

  /** A worker Deployment consuming `queues`, run by the local pod runner; `env` overrides the Secret's. */
  async applyWorkers(
    name: string,
    queues: string[],
    replicas: number,
    env: Record<string, string> = {},
  ): Promise<void> {
    const labels = { 'app.kubernetes.io/name': 'model-runner-worker', 'modelrunner.io/test-workers': name };
    const deployment: V1Deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace: this.namespace, labels },
      spec: {
        replicas,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            schedulerName: LOCAL_POD_RUNNER,
            terminationGracePeriodSeconds: 30,
            containers: [
              {
                name: 'worker',
                image: 'model-runner/worker:dev',
                envFrom: [{ secretRef: { name: 'model-runner-worker' } }],
                env: [
                  ...Object.entries(this.workerEnv()).map(([envName, value]) => ({ name: envName, value })),
                  { name: 'WORKER_MODE', value: 'queue' },
                  { name: 'WORKER_QUEUES', value: queues.join(',') },
                  { name: 'WORKER_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                  { name: 'WORKER_RETRY_DELAYS_MS', value: '1000,2000' },
                  ...Object.entries(env).map(([envName, value]) => ({ name: envName, value })),
                ],
              },
            ],
          },
        },
      },
    };
    await applyObject(kubeClients(), deployment, 'model-runner-test');
    await pollUntil(
      `${replicas} ready workers of ${name}, none of an older template`,
      async () => {
        const read = await kubeClients().apps.readNamespacedDeployment({ namespace: this.namespace, name });
        const status = read.status ?? {};
        return (
          (status.observedGeneration ?? 0) >= (read.metadata?.generation ?? 0) &&
          status.updatedReplicas === replicas &&
          status.readyReplicas === replicas &&
          status.replicas === replicas
        );
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
  }

  async applyRun(manifest: { metadata: { name: string }; spec: ModelRun['spec'] }): Promise<ModelRun> {
    return applyObject(
      kubeClients(),
      {
        apiVersion: 'modelrunner.io/v1alpha1',
        kind: 'ModelRun',
        metadata: { name: manifest.metadata.name, namespace: this.namespace },
        spec: manifest.spec,
      } as ModelRun & { metadata: { name: string } },
      'model-runner-test',
    );
  }

  getRun(name: string): Promise<ModelRun | undefined> {
    return this.runs.get(this.namespace, name);
  }

  /** Waits for the run's phase; fails with the run's status (and the operators' last lines) on timeout. */
  async waitForPhase(name: string, phases: string[], timeoutMs = 120_000): Promise<ModelRun> {
    return pollUntil(
      `ModelRun ${name} in phase ${phases.join(' or ')}`,
      async () => {
        const run = await this.getRun(name);
        return run && phases.includes(run.status?.phase ?? '') ? run : undefined;
      },
      {
        timeoutMs,
        intervalMs: 250,
        describe: async () => ({
          status: (await this.getRun(name))?.status,
          operators: this.operators.map((operator) => operator.output.split('\n').slice(-6).join('\n')),
        }),
      },
    );
  }

  async cleanup(): Promise<void> {
    for (const operator of this.operators) await operator.kill();
    // No operator is left to remove the runs' finalizer: without this the namespace never goes.
    await releaseModelRuns(kubeClients(), this.namespace);
    await deleteTestNamespace(this.namespace);
    await deleteVhost(this.vhost);
    const admin = createServerClient(stackEnv().CLICKHOUSE_URL);
    try {
      await admin.command({ query: `DROP DATABASE IF EXISTS ${this.database}` });
    } finally {
      await admin.close();
    }
    await rm(this.lakeDir, { recursive: true, force: true });
  }
}
