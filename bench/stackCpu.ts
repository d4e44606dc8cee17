// CPU seconds the local stack's services have used so far, each with its live child processes
// (RabbitMQ's Erlang VM runs under a shell), from /proc: where a bench's machine time went
// besides the process it measures.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { processCpuSeconds } from './measuredProcess.ts';

function children(pid: number): number[] {
  const found: number[] = [];
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    const listed = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
    if (listed) found.push(...listed.split(' ').map(Number));
  }
  return found;
}

function treeCpuSeconds(pid: number): number {
  try {
    return processCpuSeconds(pid) + children(pid).reduce((total, child) => total + treeCpuSeconds(child), 0);
  } catch {
    return 0; // the process (or a child) ended meanwhile
  }
}

/** Per service of the stack (its pid file's name), CPU seconds so far. */
export function stackCpuSeconds(stackDir: string): Map<string, number> {
  const pidsDir = join(stackDir, 'pids');
  const seconds = new Map<string, number>();
  for (const file of readdirSync(pidsDir)
    .filter((name) => name.endsWith('.pid'))
    .sort()) {
    const pid = Number(readFileSync(join(pidsDir, file), 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0) seconds.set(file.slice(0, -'.pid'.length), treeCpuSeconds(pid));
  }
  return seconds;
}

/** The busiest services between two readings, e.g. `kube-apiserver 9.1 s, etcd 4.0 s`. */
export function describeStackCpu(
  before: ReadonlyMap<string, number>,
  after: ReadonlyMap<string, number>,
  top = 6,
): string {
  return [...after]
    .map(([service, seconds]) => [service, seconds - (before.get(service) ?? 0)] as const)
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([service, seconds]) => `${service} ${seconds.toFixed(1)} s`)
    .join(', ');
}
