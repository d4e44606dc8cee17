// The default WorkerPools of the local stack (deploy/default-workerpools.yaml) as objects, for
// `make deploy` to apply after the worker Secret: a queue-executor ModelRun or a ModelSchedule
// of the `local` chain in namespace `default` is then served without further set-up.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { WorkerPool } from '../crds/generated/types.ts';
import { repoRoot } from './stackEnv.ts';

export const DEFAULT_WORKER_POOLS_FILE = 'deploy/default-workerpools.yaml';

export type NamedWorkerPool = WorkerPool & { metadata: { name: string; namespace: string } };

/** Each document of the file, in order; empty documents are skipped. */
export function defaultWorkerPools(): NamedWorkerPool[] {
  return parseAllDocuments(readFileSync(join(repoRoot, DEFAULT_WORKER_POOLS_FILE), 'utf8'))
    .map((document) => document.toJS() as NamedWorkerPool | null)
    .filter((pool) => pool !== null);
}
