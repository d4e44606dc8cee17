// Runs one command as a child process under GNU time and reports what it cost: wall clock,
// user + system CPU (the kernel's account of the whole process, every thread included) and
// peak resident set size. The same measure for our worker and for the peer tool.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const GNU_TIME = '/usr/bin/time';

export interface ProcessCost {
  exitCode: number;
  wallSeconds: number;
  userSeconds: number;
  systemSeconds: number;
  cpuSeconds: number;
  peakRssMiB: number;
  stdout: string;
  stderr: string;
}

export function assertGnuTime(): void {
  if (!existsSync(GNU_TIME))
    throw new Error(`${GNU_TIME} is missing: the benchmark needs GNU time (apt-get install time)`);
}

/** Runs `command args` with `env`; kills it by PID after `timeoutMs`. Never throws on a non-zero exit. */
export async function runMeasured(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs: number },
): Promise<ProcessCost> {
  const costFile = join(tmpdir(), `bench-time-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const started = performance.now();
  const child = spawn(GNU_TIME, ['-o', costFile, '-f', '%U %S %M', command, ...args], {
    env: options.env ?? process.env,
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so a timeout kills the command along with GNU time.
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  }, options.timeoutMs);
  const exitCode = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code ?? 1));
  });
  clearTimeout(timer);
  const wallSeconds = (performance.now() - started) / 1000;
  try {
    const text = await readFile(costFile, 'utf8');
    // GNU time prefixes "Command exited with non-zero status N" when the command failed.
    const last = text.trim().split('\n').at(-1) ?? '';
    const [user, system, maxRssKiB] = last.split(' ').map(Number);
    if (user === undefined || system === undefined || maxRssKiB === undefined || Number.isNaN(maxRssKiB))
      throw new Error(`unreadable GNU time output: ${JSON.stringify(text)}`);
    return {
      exitCode,
      wallSeconds,
      userSeconds: user,
      systemSeconds: system,
      cpuSeconds: user + system,
      peakRssMiB: maxRssKiB / 1024,
      stdout,
      stderr,
    };
  } finally {
    await rm(costFile, { force: true });
  }
}
