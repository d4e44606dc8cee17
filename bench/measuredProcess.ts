// Runs one command as a child process under GNU time and reports what it cost: wall clock,
// user + system CPU (the kernel's account of the whole process, every thread included) and
// peak resident set size. The same measure for our worker and for the peer tool.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
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

/** A command running under GNU time: signal it by `stop`, its cost arrives in `cost` once it exits. */
export interface MeasuredProcess {
  /** GNU time's pid (the command is its only child). */
  pid: number;
  /** The command's own stdout and stderr so far. */
  output(): { stdout: string; stderr: string };
  /** Sends `signal` to the command only (GNU time stays to report it). */
  signal(signal: NodeJS.Signals): void;
  /** User + system CPU seconds the command has used so far (from /proc), to split a run into phases. */
  cpuSecondsSoFar(): number | undefined;
  /** The command's resident set size now (from /proc), MiB. */
  residentMiBNow(): number | undefined;
  cost: Promise<ProcessCost>;
}

/** USER_HZ: /proc counts CPU time in these ticks (100 on every Linux ABI). */
const CLOCK_TICKS_PER_SECOND = 100;

/** User + system CPU seconds process `pid` has used so far, from /proc; throws when it is gone. */
export function processCpuSeconds(pid: number): number {
  // Fields after the parenthesised name: state is field 3, utime 14, stime 15.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/** Starts `command args` under GNU time; kills it (and GNU time) by PID after `timeoutMs`. */
export function startMeasured(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs: number },
): MeasuredProcess {
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
  const cost = (async (): Promise<ProcessCost> => {
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
  })();
  return {
    pid: child.pid!,
    output: () => ({ stdout, stderr }),
    signal(signal) {
      const command = commandPid(child.pid!);
      if (command !== undefined) process.kill(command, signal);
    },
    cpuSecondsSoFar() {
      const command = commandPid(child.pid!);
      if (command === undefined) return undefined;
      try {
        return processCpuSeconds(command);
      } catch {
        return undefined;
      }
    },
    residentMiBNow() {
      const command = commandPid(child.pid!);
      if (command === undefined) return undefined;
      try {
        const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${command}/status`, 'utf8'));
        return match ? Number(match[1]) / 1024 : undefined;
      } catch {
        return undefined;
      }
    },
    cost,
  };
}

/** The command GNU time runs: its only child, from /proc. */
function commandPid(timePid: number): number | undefined {
  try {
    const children = readFileSync(`/proc/${timePid}/task/${timePid}/children`, 'utf8').trim();
    return children ? Number(children.split(' ')[0]) : undefined;
  } catch {
    return undefined;
  }
}

/** Runs `command args` with `env`; kills it by PID after `timeoutMs`. Never throws on a non-zero exit. */
export async function runMeasured(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs: number },
): Promise<ProcessCost> {
  return startMeasured(command, args, options).cost;
}
