// Shared inputs of the planning tables: the local chain (100-block batches), a run over blocks
// 0-499 of it, and plans made by the real planRun, so the status tables see the plans the
// controller would make.
import type { RunRequest } from '../../../contract/batchMessage.ts';
import type { ModelRun } from '../../../crds/generated/types.ts';
import { loadChains } from '../../../dataplane/chains.ts';
import { ERC20_TRANSFERS_MANIFEST, INGEST_MANIFEST, type ModelManifest } from '../../../models/manifests.ts';
import { type RunPlan, type RunPlanInput, planRun } from '../../../controllers/planning/runPlan.ts';
import type { PlannedRunObservation } from '../../../controllers/planning/runStatus.ts';

export const T0 = new Date('2025-03-01T12:00:00Z');
export const LOCAL = loadChains().get('local')!;
export const UID = 'c0ffee00-0000-4000-8000-000000000001';

/** `T0` plus `seconds`. */
export const at = (seconds: number): Date => new Date(T0.getTime() + seconds * 1000);

/** Set of batch starts, e.g. `starts(0, 200)`. */
export const starts = (...blocks: number[]): Set<number> => new Set(blocks);

export function request(overrides: Partial<RunRequest> = {}): RunRequest {
  return {
    runId: { namespace: 'team-a', name: 'daily', uid: UID },
    model: 'ingest',
    version: 1,
    chain: 'local',
    range: { minBlock: 0, maxBlock: 500 },
    force: false,
    maxRetriesPerBatch: 3,
    ...overrides,
  };
}

export function manifestOf(model: string): ModelManifest {
  return model === 'ingest' ? INGEST_MANIFEST : ERC20_TRANSFERS_MANIFEST;
}

export function planInput(overrides: Partial<RunPlanInput> = {}): RunPlanInput {
  const runRequest = overrides.request ?? request();
  return {
    request: runRequest,
    chain: LOCAL,
    manifest: manifestOf(runRequest.model),
    markers: { completeOutputs: starts(), completeInputs: starts() },
    lastSafeBlock: 1_000_000,
    dispatched: starts(),
    finished: starts(),
    maxInFlight: 100,
    suspended: false,
    now: T0,
    ...overrides,
  };
}

export function plan(overrides: Partial<RunPlanInput> = {}): RunPlan {
  return planRun(planInput(overrides));
}

/** A ModelRun as the informer hands it over: created at T0, generation 2, blocks 0-499. */
export function modelRun(spec: Partial<ModelRun['spec']> = {}, status?: ModelRun['status']): ModelRun {
  return {
    apiVersion: 'modelrunner.io/v1alpha1',
    kind: 'ModelRun',
    metadata: {
      name: 'daily',
      namespace: 'team-a',
      uid: UID,
      generation: 2,
      creationTimestamp: T0,
    },
    spec: { model: 'ingest', chain: 'local', blocks: { start: 0, end: 499 }, ...spec },
    ...(status ? { status } : {}),
  };
}

/** A queue run's observation: `runPlan` as planned, nothing reported yet unless overridden. */
export function observed(
  runPlan: RunPlan,
  overrides: Partial<PlannedRunObservation> = {},
): { kind: 'planned' } & PlannedRunObservation {
  return {
    kind: 'planned',
    request: request(),
    plan: runPlan,
    outcomes: new Map(),
    failures: new Map(),
    dispatched: starts(),
    failedIndexes: starts(),
    executor: 'queue',
    queue: 'local_backfill_nonreads',
    ...overrides,
  };
}
