// Runs the real worker entry (`node worker-image/main.ts`) as a child process with its own env,
// collects its pino lines, and stops it by its own PID only.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../../../devtools/stackEnv.ts';

export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

export class WorkerProcess {
  readonly child: ChildProcess;
  readonly lines: LogLine[] = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(child: ChildProcess) {
    this.child = child;
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
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  static start(env: Record<string, string>): WorkerProcess {
    const child = spawn(process.execPath, [join(repoRoot, 'worker-image', 'main.ts')], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new WorkerProcess(child);
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Waits for a log line matching `predicate`; fails with the recent output on timeout or exit. */
  async waitForLine(
    what: string,
    predicate: (line: LogLine) => boolean,
    timeoutMs = 30_000,
  ): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.find(predicate);
      if (found) return found;
      if (!this.running) throw new Error(`worker exited before ${what}:\n${this.recentOutput()}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${this.recentOutput()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  recentOutput(): string {
    return [...this.lines.slice(-15).map((line) => JSON.stringify(line)), this.stderr.slice(-2_000)].join(
      '\n',
    );
  }

  /** Sends `signal` to this worker (by PID) and waits for it to exit. */
  async stop(
    signal: NodeJS.Signals = 'SIGTERM',
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.running) this.child.kill(signal);
    return this.exited;
  }
}
