// Runs a container's command as a local process and stops it the way a container
// runtime stops a container. Each process leads its own session and process
// group (spawned detached), so a signal to the group reaches everything the
// command started; when the main process ends, whatever it left in its group is
// killed too, as a runtime tears down a container's cgroup.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { writeFileAtomic } from './atomicFile.ts';

export interface ProcessSpec {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  logFile: string;
  /** Start a fresh log (first start of a container) rather than appending (a restart). */
  truncateLog: boolean;
}

export interface ProcessExit {
  /** The exit status, or 128 + signal number when a signal ended the process (137 for SIGKILL). */
  exitCode: number;
  signal?: number;
}

/** The process could not be started at all (no such program, not executable). */
export class ProcessStartError extends Error {}

export interface SupervisedProcess {
  readonly pid: number;
  readonly exited: Promise<ProcessExit>;
  /** SIGTERM to the group, SIGKILL after the grace period; resolves when the process has exited. */
  stop(graceMs: number): Promise<ProcessExit>;
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

function startErrorMessage(program: string, error: NodeJS.ErrnoException): string {
  if (error.code === 'ENOENT') return `exec: "${program}": executable file not found in $PATH`;
  if (error.code === 'EACCES') return `exec: "${program}": permission denied`;
  return `exec: "${program}": ${error.message}`;
}

export async function startProcess(spec: ProcessSpec): Promise<SupervisedProcess> {
  const [program, ...args] = spec.argv;
  if (!program) throw new ProcessStartError('the container has an empty command line');
  mkdirSync(dirname(spec.logFile), { recursive: true });
  const log = openSync(spec.logFile, spec.truncateLog ? 'w' : 'a', 0o644);
  let child;
  try {
    child = spawn(program, args, {
      cwd: spec.cwd,
      env: spec.env,
      detached: true,
      stdio: ['ignore', log, log],
    });
  } finally {
    // The child holds its own copy of the descriptor from here on.
    closeSync(log);
  }
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (error) => reject(new ProcessStartError(startErrorMessage(program, error))));
  });
  const pid = child.pid!;
  let exit: ProcessExit | undefined;
  const exited = new Promise<ProcessExit>((resolve) => {
    child.once('exit', (code, signal) => {
      signalGroup(pid, 'SIGKILL');
      const number = signal ? constants.signals[signal] : undefined;
      exit = number ? { exitCode: 128 + number, signal: number } : { exitCode: code ?? 0 };
      resolve(exit);
    });
  });
  return {
    pid,
    exited,
    async stop(graceMs) {
      if (exit) return exit;
      signalGroup(pid, 'SIGTERM');
      const timer = setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

// --- Records of running processes ---------------------------------------------
// A runner that is killed leaves its process groups behind. Each running process
// is recorded in a file (pid plus its start time, so a reused pid is never taken
// for it); the next runner stops whatever the records name before it starts anything.

export interface ProcessRecord {
  pid: number;
  startTicks: number;
  podUid: string;
  namespace: string;
  pod: string;
  container: string;
}

/** The process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat), if it is alive. */
export function processStartTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: fields are counted after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const state = fields[0];
    if (state === 'Z' || state === 'X') return undefined;
    const ticks = Number(fields[19]);
    return Number.isFinite(ticks) ? ticks : undefined;
  } catch {
    return undefined;
  }
}

export function writeProcessRecord(file: string, record: ProcessRecord): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileAtomic(file, JSON.stringify(record));
}

export function removeProcessRecord(file: string): void {
  rmSync(file, { force: true });
}

function parseProcessRecord(text: string): ProcessRecord | undefined {
  try {
    const value = JSON.parse(text) as Partial<ProcessRecord>;
    if (!Number.isInteger(value.pid) || (value.pid ?? 0) <= 1 || !Number.isInteger(value.startTicks))
      return undefined;
    return value as ProcessRecord;
  } catch {
    return undefined;
  }
}

/**
 * Stops every process group named by a record in `dir` (SIGTERM, then SIGKILL after
 * the grace period) and removes the records. Returns the records it stopped.
 */
export async function stopRecordedProcesses(
  dir: string,
  graceMs: number,
  log: Logger,
): Promise<ProcessRecord[]> {
  let files: string[];
  try {
    files = readdirSync(dir).filter((name) => name.endsWith('.json'));
  } catch {
    return [];
  }
  const stopped: ProcessRecord[] = [];
  await Promise.all(
    files.map(async (name) => {
      const file = join(dir, name);
      const record = parseProcessRecord(readFileSync(file, 'utf8'));
      if (record && processStartTicks(record.pid) === record.startTicks) {
        log.info(
          { namespace: record.namespace, pod: record.pod, container: record.container, pid: record.pid },
          'stopping a process left behind by an earlier runner',
        );
        signalGroup(record.pid, 'SIGTERM');
        const deadline = Date.now() + graceMs;
        while (processStartTicks(record.pid) === record.startTicks && Date.now() < deadline) await sleep(100);
        signalGroup(record.pid, 'SIGKILL');
        stopped.push(record);
      }
      removeProcessRecord(file);
    }),
  );
  return stopped;
}
