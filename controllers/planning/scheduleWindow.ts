// What the markers say about a schedule's window: which batches are pending (inputs complete,
// outputs not), how far ingestion and the model have got, and how much is covered. Pure: the
// complete batches come in as sets of first blocks, read by the controller over the part of
// the window it scanned.
//
// A batch is ready when its inputs are complete in every input root path (for ingest, which
// reads the chain: when its last block is at or below the chain's safe tip). A ready batch
// whose outputs are not complete in every output root path is pending. Batches without
// complete inputs are holes in ingestion: not pending, and not held against the model.
//
// The scan: [windowStart, scanFrom) is known complete (every batch there had complete outputs
// when the controller last read the whole window), so a realtime check reads only from
// scanFrom on, the few batches at the head, instead of the whole window every few seconds.
import type { BlockRange } from '../../contract/apiConversions.ts';
import {
  type BatchSizeDelimiter,
  type BlockBatch,
  batchContaining,
  planBatches,
} from '../../dataplane/batches.ts';

export interface WindowFacts {
  delimiters: readonly BatchSizeDelimiter[];
  /** First block of the window, on a batch boundary. */
  windowStart: number;
  /** On a batch boundary, ≥ windowStart: the batches before it are known complete. */
  scanFrom: number;
  /** Models: first blocks of the batches (from scanFrom on) complete in every input root path. Ingest: undefined. */
  completeInputs: ReadonlySet<number> | undefined;
  /** First blocks of the batches (from scanFrom on) complete in every output root path. */
  completeOutputs: ReadonlySet<number>;
  /** Ingest: the chain's tip minus its safety distance; undefined when the chain cannot be read. */
  lastSafeBlock?: number | undefined;
}

export interface WindowAssessment {
  /** Ready batches without complete outputs, in block order. */
  pending: BlockBatch[];
  /** Batches in the window whose inputs are not complete (holes in ingestion). */
  waitingForInputs: number;
  /** End (exclusive) of the part of the window the markers or the safe tip reach. */
  windowEnd: number;
  /** Every batch before this block has complete outputs: where the next realtime check starts. */
  completeThrough: number;
  /** Every ready batch up to and including this block has complete outputs (undefined: none yet). */
  processedThroughBlock: number | undefined;
  /** Models: the last block of the newest batch with complete inputs; ingest: of its own newest complete batch. */
  ingestedThroughBlock: number | undefined;
  /** What lag is measured against: ingestedThroughBlock for a model, the safe tip for ingest. */
  headBlock: number | undefined;
  /** headBlock − processedThroughBlock (undefined without a head). */
  lagBlocks: number | undefined;
  /** Blocks of the window that are ready or complete. */
  expectedBlocks: number;
  /** Blocks of the window with complete outputs. */
  coveredBlocks: number;
}

/** End of the newest of these batches (0 for none): a later batch always ends later. */
function maxEnd(starts: ReadonlySet<number>, delimiters: readonly BatchSizeDelimiter[]): number {
  let newest = -1;
  for (const start of starts) if (start > newest) newest = start;
  return newest < 0 ? 0 : batchContaining(delimiters, newest).maxBlock;
}

/** The first block of the first batch that is not whole at or below `lastSafeBlock`. */
function safeEnd(lastSafeBlock: number, delimiters: readonly BatchSizeDelimiter[]): number {
  return batchContaining(delimiters, lastSafeBlock + 1).minBlock;
}

export function assessWindow(facts: WindowFacts): WindowAssessment {
  const { delimiters, windowStart, scanFrom, completeInputs, completeOutputs, lastSafeBlock } = facts;
  const isIngest = completeInputs === undefined;
  const readyEnd = isIngest
    ? lastSafeBlock === undefined
      ? 0
      : safeEnd(lastSafeBlock, delimiters)
    : maxEnd(completeInputs, delimiters);
  const windowEnd = Math.max(scanFrom, readyEnd, maxEnd(completeOutputs, delimiters));
  const scanned: BlockRange = { minBlock: scanFrom, maxBlock: windowEnd };
  const batches = planBatches(scanned, delimiters, { maxBatches: Number.MAX_SAFE_INTEGER });

  const isReady = (batch: BlockBatch) =>
    isIngest ? batch.maxBlock <= readyEnd : completeInputs.has(batch.minBlock);
  const pending: BlockBatch[] = [];
  let waitingForInputs = 0;
  let completeThrough = scanFrom;
  let prefixUnbroken = true;
  let expectedBlocks = scanFrom - windowStart;
  let coveredBlocks = scanFrom - windowStart;
  let newestComplete = scanFrom > windowStart ? scanFrom : undefined;
  for (const batch of batches) {
    const size = batch.maxBlock - batch.minBlock;
    const complete = completeOutputs.has(batch.minBlock);
    const ready = isReady(batch);
    if (complete) {
      coveredBlocks += size;
      expectedBlocks += size;
      newestComplete = batch.maxBlock;
    } else if (ready) {
      expectedBlocks += size;
      pending.push(batch);
    } else if (!isIngest) {
      waitingForInputs += 1;
    }
    if (prefixUnbroken && complete) completeThrough = batch.maxBlock;
    else prefixUnbroken = false;
  }

  const ingestedEnd = isIngest ? newestComplete : readyEnd > 0 ? readyEnd : newestComplete;
  const ingestedThroughBlock = ingestedEnd === undefined ? undefined : ingestedEnd - 1;
  const headBlock = isIngest ? lastSafeBlock : ingestedThroughBlock;
  const processedEnd = pending[0]?.minBlock ?? Math.max(windowStart, isIngest ? readyEnd : windowEnd);
  const processedThroughBlock = processedEnd > windowStart ? processedEnd - 1 : undefined;
  const lagBlocks =
    headBlock === undefined || headBlock < 0
      ? undefined
      : Math.max(0, headBlock - (processedThroughBlock ?? windowStart - 1));
  return {
    pending,
    waitingForInputs,
    windowEnd,
    completeThrough,
    processedThroughBlock,
    ingestedThroughBlock,
    headBlock: headBlock !== undefined && headBlock >= 0 ? headBlock : undefined,
    lagBlocks,
    expectedBlocks,
    coveredBlocks,
  };
}
