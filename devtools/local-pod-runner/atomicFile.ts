// Files other processes read while the runner rewrites them (a pod's token, the
// records of running processes) are written whole or not at all: a temporary
// file beside the target, then a rename, which replaces the target atomically.
import { renameSync, rmSync, writeFileSync } from 'node:fs';

export function writeFileAtomic(path: string, data: string, mode = 0o644): void {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, data, { mode });
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}
