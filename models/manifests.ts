// What each model is, reads and writes, as plain data: the operator plans runs from these
// alone (the queue's kind, the inputs to wait for, the outputs to check), without loading any
// model implementation or DuckDB. The shipped registry (registry.ts) checks every
// implementation against its manifest at start-up, so the two cannot drift.
import type { ModelKind } from '../contract/queues.ts';
import { INGESTION_ROOT_PATHS, modelOutputRootPath } from '../dataplane/paths.ts';

export interface ModelOutputManifest {
  dataset: string;
  rootPath: string;
}

export interface ModelManifest {
  name: string;
  /** Positive integer; part of every output root path, so a new version writes new files. */
  version: number;
  kind: ModelKind;
  description: string;
  /** Root paths whose complete markers a batch waits for; empty for ingest (JSON-RPC is its input). */
  inputRootPaths: readonly string[];
  outputs: readonly ModelOutputManifest[];
}

const ERC20_TRANSFERS_ROOT_PATH = modelOutputRootPath('erc20_transfers', 'erc20_transfers', 1);

export const INGEST_MANIFEST: ModelManifest = {
  name: 'ingest',
  version: 2,
  kind: 'nonreads',
  description: 'Blocks, transactions with their receipts, and logs from JSON-RPC into ingestion/*',
  inputRootPaths: [],
  outputs: [
    { dataset: 'blocks', rootPath: INGESTION_ROOT_PATHS.blocks },
    { dataset: 'transactions', rootPath: INGESTION_ROOT_PATHS.transactions },
    { dataset: 'logs', rootPath: INGESTION_ROOT_PATHS.logs },
  ],
};

export const ERC20_TRANSFERS_MANIFEST: ModelManifest = {
  name: 'erc20_transfers',
  version: 1,
  kind: 'nonreads',
  description: 'ERC-20 Transfer events decoded from ingested logs',
  inputRootPaths: [INGESTION_ROOT_PATHS.logs],
  outputs: [{ dataset: 'erc20_transfers', rootPath: ERC20_TRANSFERS_ROOT_PATH }],
};

export const ERC20_BALANCES_MANIFEST: ModelManifest = {
  name: 'erc20_balances',
  version: 1,
  kind: 'reads',
  description: "balanceOf at the batch's last block for every holder its ERC-20 transfers touched",
  inputRootPaths: [ERC20_TRANSFERS_ROOT_PATH],
  outputs: [
    { dataset: 'erc20_balances', rootPath: modelOutputRootPath('erc20_balances', 'erc20_balances', 1) },
  ],
};

export const MODEL_MANIFESTS: readonly ModelManifest[] = [
  INGEST_MANIFEST,
  ERC20_TRANSFERS_MANIFEST,
  ERC20_BALANCES_MANIFEST,
];

/** The manifest of a model by name, if this build has the model. */
export function findModelManifest(name: string): ModelManifest | undefined {
  return MODEL_MANIFESTS.find((manifest) => manifest.name === name);
}

/** The fields a model definition takes from its manifest as they are. */
export function manifestIdentity(
  manifest: ModelManifest,
): Pick<ModelManifest, 'name' | 'version' | 'kind' | 'description' | 'inputRootPaths'> {
  const { name, version, kind, description, inputRootPaths } = manifest;
  return { name, version, kind, description, inputRootPaths };
}

/** The root path a manifest gives one of its datasets. */
export function outputRootPath(manifest: ModelManifest, dataset: string): string {
  const output = manifest.outputs.find((entry) => entry.dataset === dataset);
  if (!output) throw new Error(`model ${manifest.name} has no dataset ${dataset}`);
  return output.rootPath;
}
