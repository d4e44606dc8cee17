// Where a ModelRun's spec crosses into the rest of the system: checked against the model
// manifests and the configured chains, then turned into a RunRequest (half-open range,
// numeric version) by the contract's conversions. The controller, the Job's pods and the
// queue messages all see the run through this one value.
import { blockRangeFromApi, modelVersionFromApi, type BlockRange } from '../../contract/apiConversions.ts';
import type { RunRequest } from '../../contract/batchMessage.ts';
import type { ChainConfig, Chains } from '../../dataplane/chains.ts';
import type { ModelRun } from '../../crds/generated/types.ts';
import { MODEL_MANIFESTS, type ModelManifest, findModelManifest } from '../../models/manifests.ts';

/** Why a run can never be planned: it ends Failed with this reason and message. */
export interface RunSpecProblem {
  reason: 'UnknownModel' | 'UnknownModelVersion' | 'UnknownChain' | 'DatesNeedIngestion';
  message: string;
}

export interface RunTarget {
  manifest: ModelManifest;
  chain: ChainConfig;
  /** The version the run uses (the spec's, or the manifest's when the spec names none). */
  version: number;
}

/** The model and chain a run names, or what is wrong with them, in words that say what to fix. */
export function resolveRunTarget(run: ModelRun, chains: Chains): RunTarget | RunSpecProblem {
  const { spec } = run;
  const manifest = findModelManifest(spec.model);
  if (!manifest) {
    return {
      reason: 'UnknownModel',
      message: `model ${JSON.stringify(spec.model)} is not in this operator's registry; known models: ${knownModels()}. Create a new ModelRun with one of them.`,
    };
  }
  const version = spec.version === undefined ? manifest.version : modelVersionFromApi(spec.version);
  if (version !== manifest.version) {
    return {
      reason: 'UnknownModelVersion',
      message: `model ${manifest.name} is at version v${manifest.version}, not ${spec.version}: create a new ModelRun with version v${manifest.version}, or without a version.`,
    };
  }
  const chain = chains.get(spec.chain);
  if (!chain) {
    return {
      reason: 'UnknownChain',
      message: `chain ${JSON.stringify(spec.chain)} is not configured in the operator; configured chains: ${[...chains.keys()].join(', ')}. Add it to the operator's chains file, or create a new ModelRun for a configured chain.`,
    };
  }
  if (spec.dates && manifest.inputRootPaths.length === 0) {
    return {
      reason: 'DatesNeedIngestion',
      message: `spec.dates resolves to blocks through the ingestion markers, which model ${manifest.name} writes itself: give spec.blocks instead.`,
    };
  }
  return { manifest, chain, version };
}

export function isRunSpecProblem(value: RunTarget | RunSpecProblem): value is RunSpecProblem {
  return 'reason' in value;
}

function knownModels(): string {
  return MODEL_MANIFESTS.map((manifest) => manifest.name).join(', ');
}

/** spec.blocks as a half-open range; undefined when the run is given by dates. */
export function specBlockRange(run: ModelRun): BlockRange | undefined {
  return run.spec.blocks ? blockRangeFromApi(run.spec.blocks) : undefined;
}

/** The run as its batches see it. */
export function runRequestOf(run: ModelRun, target: RunTarget, range: BlockRange): RunRequest {
  const metadata = run.metadata ?? {};
  const request: RunRequest = {
    runId: { namespace: metadata.namespace ?? '', name: metadata.name ?? '', uid: metadata.uid ?? '' },
    model: target.manifest.name,
    version: target.version,
    chain: target.chain.name,
    range,
    force: run.spec.force ?? false,
    maxRetriesPerBatch: run.spec.maxRetriesPerBatch ?? 3,
  };
  if (run.spec.sink) request.sinkTopic = run.spec.sink.topic;
  return request;
}
