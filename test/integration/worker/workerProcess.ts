// Runs the real worker entry (`node worker-image/main.ts`) as a child process with its own env,
// collects its pino lines (for assertions on what it logged, never as a signal to wait for),
// reads its /metrics on a port the test chose, and stops it by its own PID only.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '../../support/freePort.ts';
import { repoRoot } from '../../../devtools/stackEnv.ts';
import { eventually } from './support.ts';

export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

export type Exit = { code: number | null; signal: NodeJS.Signals | null };

/** How long a worker gets to exit before the test kills it and fails. */
const EXIT_TIMEOUT_MS = 60_000;

/** The value of the sample `name{labels…}` in Prometheus text (labels in any order), if present. */
function sampleValue(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = new Map(
      [...(match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map(
        ([, label, value]) => [label, value],
      ),
    );
    if (Object.entries(labels).every(([label, value]) => found.get(label) === value)) return Number(match[3]);
  }
  return undefined;
}

export class WorkerProcess {
  readonly child: ChildProcess;
  readonly metricsPort: number;
  readonly lines: LogLine[] = [];
  stderr = '';
  /** Settles once the process exited and its output was read to the end. */
  readonly exited: Promise<Exit>;

  private constructor(child: ChildProcess, metricsPort: number) {
    this.child = child;
    this.metricsPort = metricsPort;
    let buffer = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      buffer += chunk;
      const parts = buffer.split('\n');
      buffer = parts.pop() ?? '';
      for (const part of parts) {
        if (part.trim() === '') continue;
        try {
          this.lines.push(JSON.parse(part) as LogLine);
        } catch {
          this.lines.push({ level: 0, msg: part });
        }
      }
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  }

  /** Starts a worker with `env`; its metrics server listens on a free port of the test's choosing. */
  static async start(env: Record<string, string>): Promise<WorkerProcess> {
    const metricsPort = await freePort();
    const child = spawn(process.execPath, [join(repoRoot, 'worker-image', 'main.ts')], {
      cwd: repoRoot,
      env: {
        PATH: process.env.PATH ?? '',
        ...env,
        METRICS_HOST: '127.0.0.1',
        METRICS_PORT: String(metricsPort),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new WorkerProcess(child, metricsPort);
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The worker's /metrics, once its server answers (it starts after the worker's clients). */
  async metricsText(): Promise<string> {
    return eventually("the worker's /metrics", async () => {
      if (!this.running) throw new Error(`the worker exited:\n${this.recentOutput()}`);
      const response = await fetch(`http://127.0.0.1:${this.metricsPort}/metrics`);
      return response.ok ? response.text() : undefined;
    });
  }

  /** Waits until the sample `name{labels}` satisfies `done` (e.g. a counter reached 2). */
  async waitForMetric(
    what: string,
    name: string,
    labels: Record<string, string>,
    done: (value: number) => boolean,
    timeoutMs = 40_000,
  ): Promise<number> {
    return eventually(
      what,
      async () => {
        if (!this.running) throw new Error(`the worker exited:\n${this.recentOutput()}`);
        const value = sampleValue(await this.metricsText(), name, labels);
        return value !== undefined && done(value) ? value : undefined;
      },
      timeoutMs,
      200,
    );
  }

  recentOutput(): string {
    return [...this.lines.slice(-15).map((line) => JSON.stringify(line)), this.stderr.slice(-2_000)].join(
      '\n',
    );
  }

  /** Waits for the worker to exit by itself; past the deadline it is killed and the test fails. */
  async exit(timeoutMs = EXIT_TIMEOUT_MS): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const result = await Promise.race([this.exited, timedOut]);
    clearTimeout(timer);
    if (result !== 'timeout') return result;
    this.child.kill('SIGKILL');
    await this.exited;
    throw new Error(`the worker did not exit within ${timeoutMs} ms:\n${this.recentOutput()}`);
  }

  /** Sends `signal` to this worker (by PID) and waits for it to exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = EXIT_TIMEOUT_MS): Promise<Exit> {
    if (this.running) this.child.kill(signal);
    return this.exit(timeoutMs);
  }
}
