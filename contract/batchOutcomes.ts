// How a batch ended, as a worker reports it and the operator counts it.
export type BatchOutcome = 'succeeded' | 'skipped' | 'failed';

export const BATCH_OUTCOMES: readonly BatchOutcome[] = ['succeeded', 'skipped', 'failed'];
