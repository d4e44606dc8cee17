// planRun: what a ModelRun's batches are and which to send now, from the markers and what the
// run already sent. Pure: every fact comes in as data (marker sets, the chain's safe tip, the
// dispatch ledger), so the whole decision is a table in the unit tests.
//
// A batch is sent only when its inputs are complete (their markers) and, for a model without
// inputs (ingest), when its last block is at or below the chain's safe tip. Batches whose
// outputs are complete are skipped unless the run forces them. At most `maxInFlight` batches
// of a run are out at once, so a suspended run holds back what it has not sent.
import { type BatchMessage, type RunRequest, batchMessageFor } from '../../contract/batchMessage.ts';
import { type BlockBatch, type BlockRange, batchContaining } from '../../dataplane/batches.ts';
import { type ChainConfig, planChainBatches } from '../../dataplane/chains.ts';
import type { ModelManifest } from '../../models/manifests.ts';

export interface MarkerFacts {
  /** First blocks of the run's batches complete in every output root path of the model. */
  completeOutputs: ReadonlySet<number>;
  /** First blocks of the run's batches complete in every input root path (unused without inputs). */
  completeInputs: ReadonlySet<number>;
}

export interface RunPlanInput {
  request: RunRequest;
  chain: ChainConfig;
  manifest: ModelManifest;
  markers: MarkerFacts;
  /** tip − the chain's safety distance; undefined when the operator cannot ask the chain. */
  lastSafeBlock: number | undefined;
  /** First blocks of the batches this run already sent. */
  dispatched: ReadonlySet<number>;
  /** First blocks of the batches workers finished for this run (any outcome). */
  finished: ReadonlySet<number>;
  maxInFlight: number;
  suspended: boolean;
  now: Date;
}

export interface RunPlan {
  /** Every batch of the run's range, in block order. */
  batches: BlockBatch[];
  /** Not sent because their outputs were already complete. */
  alreadyDone: BlockBatch[];
  waitingForInputs: BlockBatch[];
  /** Ingest only: beyond the safe tip, or the tip is unknown. */
  waitingForTip: BlockBatch[];
  /** Ready, but the run is suspended or has maxInFlight batches out. */
  heldBack: BlockBatch[];
  /** Send these now, in this order. */
  toDispatch: BatchMessage[];
}

export function planRun(input: RunPlanInput): RunPlan {
  const { request, manifest, markers } = input;
  const plan: RunPlan = {
    batches: planChainBatches(input.chain, request.range),
    alreadyDone: [],
    waitingForInputs: [],
    waitingForTip: [],
    heldBack: [],
    toDispatch: [],
  };
  let inFlight = [...input.dispatched].filter((start) => !input.finished.has(start)).length;
  const needsInputs = manifest.inputRootPaths.length > 0;
  for (const batch of plan.batches) {
    if (input.dispatched.has(batch.minBlock)) continue;
    if (!request.force && markers.completeOutputs.has(batch.minBlock)) {
      plan.alreadyDone.push(batch);
    } else if (needsInputs && !markers.completeInputs.has(batch.minBlock)) {
      plan.waitingForInputs.push(batch);
    } else if (
      !needsInputs &&
      (input.lastSafeBlock === undefined || batch.maxBlock - 1 > input.lastSafeBlock)
    ) {
      plan.waitingForTip.push(batch);
    } else if (input.suspended || inFlight >= input.maxInFlight) {
      plan.heldBack.push(batch);
    } else {
      plan.toDispatch.push(batchMessageFor(request, batch, input.now));
      inFlight += 1;
    }
  }
  return plan;
}

/**
 * The blocks of the whole batches covering `range`. A run's range may start or end mid-batch (a
 * run by dates nearly always does), its batches do not: markers are asked for these blocks.
 */
export function batchRangeOf(chain: ChainConfig, range: BlockRange): BlockRange {
  if (range.maxBlock <= range.minBlock) return range;
  return {
    minBlock: batchContaining(chain.batchSizes, range.minBlock).minBlock,
    maxBlock: batchContaining(chain.batchSizes, range.maxBlock - 1).maxBlock,
  };
}

/** True when nothing keeps any batch from being worked: what an Indexed Job needs to start. */
export function isEveryBatchReady(plan: RunPlan): boolean {
  return plan.waitingForInputs.length === 0 && plan.waitingForTip.length === 0;
}
