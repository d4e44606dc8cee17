// The operator of this checkout as a child process (`node operator/main.ts`), for tests and
// benchmarks: reconciling one namespace (WATCH_NAMESPACE, its Lease there too), metrics on a
// free port, its JSON log lines in a file. Stopped by its own PID only.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './stackEnv.ts';

export interface OperatorProcessOptions {
  /** Watched, and where its Lease lives. */
  namespace: string;
  /** The OPERATOR_CONFIG document (JSON is YAML). */
  config: Record<string, unknown>;
  /** KUBECONFIG, service URLs (RABBITMQ_URL, RABBITMQ_MANAGEMENT_URL, …) and RPC URLs. */
  env: Record<string, string>;
  /** POD_NAME: its identity in the Lease, Events and its AMQP connection name. */
  identity: string;
  logFile: string;
}

export class OperatorProcess {
  readonly child: ChildProcess;
  readonly identity: string;
  readonly logFile: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(child: ChildProcess, options: OperatorProcessOptions) {
    this.child = child;
    this.identity = options.identity;
    this.logFile = options.logFile;
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  static start(options: OperatorProcessOptions): OperatorProcess {
    const log = openSync(options.logFile, 'a');
    const child = spawn(process.execPath, [join(repoRoot, 'operator', 'main.ts')], {
      cwd: repoRoot,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        ...options.env,
        OPERATOR_CONFIG: JSON.stringify(options.config),
        WATCH_NAMESPACE: options.namespace,
        POD_NAMESPACE: options.namespace,
        POD_NAME: options.identity,
        METRICS_PORT: '0',
      },
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    return new OperatorProcess(child, options);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Its log lines so far (JSON objects; other lines as { msg }). */
  lines(): Record<string, unknown>[] {
    if (!existsSync(this.logFile)) return [];
    return readFileSync(this.logFile, 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => {
        try {
          return JSON.parse(line) as Record<string, unknown>;
        } catch {
          return { msg: line };
        }
      });
  }

  /** The last few lines, for failure messages. */
  logTail(lines = 40): string {
    return existsSync(this.logFile)
      ? readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n')
      : '';
  }

  /** Waits (at most `timeoutMs`) for a log line matching `predicate`. */
  async waitForLine(
    what: string,
    predicate: (line: Record<string, unknown>) => boolean,
    timeoutMs = 30_000,
  ): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines().find(predicate);
      if (found) return found;
      if (!this.running) throw new Error(`the operator exited before ${what}:\n${this.logTail()}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${this.logTail()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** The text of its /metrics. */
  async scrape(): Promise<string> {
    const line = await this.waitForLine('the metrics server', (entry) => entry.msg === 'metrics listening');
    const response = await fetch(`http://127.0.0.1:${String(line.port)}/metrics`);
    return response.text();
  }

  /** SIGTERM (it releases its Lease) and waits for the exit; SIGKILL after `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** One sample of a Prometheus text exposition: the series of `name` whose labels include `labels`. */
export function metricValue(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries(
      [...(match[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((pair) => [
        pair[1],
        pair[2],
      ]),
    );
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) return Number(match[4]);
  }
  return undefined;
}
