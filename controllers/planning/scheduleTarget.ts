// Where a ModelSchedule's spec meets the rest of the system: its model and chain checked
// against the manifests and the configured chains, its cron schedule and time zone checked by
// evaluating them, and its window's first block. Pure.
import { modelVersionFromApi } from '../../contract/apiConversions.ts';
import { batchContaining } from '../../dataplane/batches.ts';
import type { ChainConfig, Chains } from '../../dataplane/chains.ts';
import type { ModelSchedule } from '../../crds/generated/types.ts';
import { MODEL_MANIFESTS, type ModelManifest, findModelManifest } from '../../models/manifests.ts';
import { cronScheduleProblem } from './cronTimes.ts';
import { cronScheduleOf } from './scheduleTrigger.ts';

export interface ScheduleTarget {
  manifest: ModelManifest;
  chain: ChainConfig;
  version: number;
}

/** Why the schedule cannot work as written: Ready is False with this reason until the spec changes. */
export interface ScheduleSpecProblem {
  reason: 'UnknownModel' | 'UnknownModelVersion' | 'UnknownChain' | 'InvalidSchedule';
  message: string;
}

export function isScheduleSpecProblem(
  value: ScheduleTarget | ScheduleSpecProblem,
): value is ScheduleSpecProblem {
  return 'reason' in value;
}

export function resolveScheduleTarget(
  schedule: ModelSchedule,
  chains: Chains,
): ScheduleTarget | ScheduleSpecProblem {
  const { spec } = schedule;
  const manifest = findModelManifest(spec.model);
  if (!manifest) {
    return {
      reason: 'UnknownModel',
      message: `model ${JSON.stringify(spec.model)} is not in this operator's registry (known: ${MODEL_MANIFESTS.map((m) => m.name).join(', ')}); model is immutable: create a new ModelSchedule`,
    };
  }
  const version = spec.version === undefined ? manifest.version : modelVersionFromApi(spec.version);
  if (version !== manifest.version) {
    return {
      reason: 'UnknownModelVersion',
      message: `model ${manifest.name} is at version v${manifest.version}, not ${spec.version}: set spec.version to v${manifest.version}, or remove it`,
    };
  }
  const chain = chains.get(spec.chain);
  if (!chain) {
    return {
      reason: 'UnknownChain',
      message: `chain ${JSON.stringify(spec.chain)} is not configured in the operator (configured: ${[...chains.keys()].join(', ')}); chain is immutable: create a new ModelSchedule`,
    };
  }
  const cron = cronScheduleOf(spec);
  const cronProblem = cron ? cronScheduleProblem(cron) : undefined;
  if (cronProblem) return { reason: 'InvalidSchedule', message: cronProblem };
  return { manifest, chain, version };
}

/** The first block of the backfill window on a batch boundary, given how sinceDate resolved. */
export function backfillStart(
  schedule: ModelSchedule,
  chain: ChainConfig,
  sinceDateBlock: number | undefined,
): number | undefined {
  const since = schedule.spec.backfill?.sinceBlock ?? sinceDateBlock;
  return since === undefined ? undefined : batchContaining(chain.batchSizes, since).minBlock;
}
