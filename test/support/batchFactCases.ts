// One table of batch-fact cases for both forms of the rule (adapters/redis/batchFactRules.ts):
// the unit test runs the TypeScript function over it, the Redis integration test replays each
// case's events through the Lua script and reads the stored facts back. Each case is a list of
// reports on one batch (blocks 100-199) and the facts they leave (undefined: none at all).
import type { BatchFact, BatchFactEvent } from '../../contract/batchFacts.ts';

export interface BatchFactCase {
  name: string;
  events: BatchFactEvent[];
  expected: BatchFact | undefined;
}

const blocks = { minBlock: 100, maxBlock: 200 };
const start = (attempt: number, at: number, worker = 'pod-a'): BatchFactEvent => ({
  kind: 'started',
  ...blocks,
  attempt,
  worker,
  at,
});
const end = (
  state: Extract<BatchFactEvent, { kind: 'finished' }>['state'],
  attempt: number,
  at: number,
  extra: { rows?: number; error?: string; worker?: string } = {},
): BatchFactEvent => ({
  kind: 'finished',
  ...blocks,
  state,
  attempt,
  worker: extra.worker ?? 'pod-a',
  at,
  ...extra,
});

export const BATCH_FACT_CASES: BatchFactCase[] = [
  {
    name: 'a start: running, with its worker and start time',
    events: [start(1, 1_000)],
    expected: { ...blocks, state: 'running', attempts: 1, worker: 'pod-a', startedAt: 1_000 },
  },
  {
    name: 'start then success: rows and both times',
    events: [start(1, 1_000), end('succeeded', 1, 4_000, { rows: 250 })],
    expected: {
      ...blocks,
      state: 'succeeded',
      attempts: 1,
      worker: 'pod-a',
      startedAt: 1_000,
      finishedAt: 4_000,
      rows: 250,
    },
  },
  {
    name: 'a success with no rows keeps rows 0',
    events: [start(1, 1_000), end('skipped', 1, 2_000, { rows: 0 })],
    expected: {
      ...blocks,
      state: 'skipped',
      attempts: 1,
      worker: 'pod-a',
      startedAt: 1_000,
      finishedAt: 2_000,
      rows: 0,
    },
  },
  {
    name: 'a failure that is retried, then a success on another worker: the last error stays',
    events: [
      start(1, 1_000),
      end('retrying', 1, 2_000, { error: 'rpc: timeout' }),
      start(2, 3_000, 'pod-b'),
      end('succeeded', 2, 5_000, { rows: 7, worker: 'pod-b' }),
    ],
    expected: {
      ...blocks,
      state: 'succeeded',
      attempts: 2,
      worker: 'pod-b',
      startedAt: 3_000,
      finishedAt: 5_000,
      rows: 7,
      lastError: 'rpc: timeout',
    },
  },
  {
    name: 'a new attempt keeps the last error while it runs',
    events: [start(1, 1_000), end('retrying', 1, 2_000, { error: 'rpc: timeout' }), start(2, 3_000)],
    expected: {
      ...blocks,
      state: 'running',
      attempts: 2,
      worker: 'pod-a',
      startedAt: 3_000,
      lastError: 'rpc: timeout',
    },
  },
  {
    name: 'failed for good',
    events: [start(1, 1_000), end('failed', 1, 2_000, { error: 'unknownModel: no' })],
    expected: {
      ...blocks,
      state: 'failed',
      attempts: 1,
      worker: 'pod-a',
      startedAt: 1_000,
      finishedAt: 2_000,
      lastError: 'unknownModel: no',
    },
  },
  {
    name: 'a failure with no start (dead-lettered before it ran)',
    events: [end('failed', 3, 2_000, { error: 'misrouted: x' })],
    expected: {
      ...blocks,
      state: 'failed',
      attempts: 3,
      worker: 'pod-a',
      finishedAt: 2_000,
      lastError: 'misrouted: x',
    },
  },
  {
    name: 'success is final: a duplicate delivery starting and failing later changes nothing',
    events: [
      start(1, 1_000),
      end('succeeded', 1, 2_000, { rows: 3 }),
      start(1, 3_000, 'pod-b'),
      end('failed', 1, 4_000, { error: 'late', worker: 'pod-b' }),
    ],
    expected: {
      ...blocks,
      state: 'succeeded',
      attempts: 1,
      worker: 'pod-a',
      startedAt: 1_000,
      finishedAt: 2_000,
      rows: 3,
    },
  },
  {
    name: 'skipped is final too',
    events: [start(1, 1_000), end('skipped', 1, 2_000, { rows: 0 }), start(2, 3_000)],
    expected: {
      ...blocks,
      state: 'skipped',
      attempts: 1,
      worker: 'pod-a',
      startedAt: 1_000,
      finishedAt: 2_000,
      rows: 0,
    },
  },
  {
    name: 'a report of an older attempt is stale',
    events: [start(2, 3_000), end('interrupted', 1, 4_000)],
    expected: { ...blocks, state: 'running', attempts: 2, worker: 'pod-a', startedAt: 3_000 },
  },
  {
    name: 'interrupted by shutdown, then redelivered with the same attempt',
    events: [start(1, 1_000), end('interrupted', 1, 2_000), start(1, 3_000, 'pod-b')],
    expected: { ...blocks, state: 'running', attempts: 1, worker: 'pod-b', startedAt: 3_000 },
  },
  {
    name: 'job mode: a failed attempt, then the Job tries the index again and it succeeds',
    events: [
      start(1, 1_000),
      end('failed', 1, 2_000, { error: 'rpc: refused' }),
      start(2, 3_000, 'pod-b'),
      end('succeeded', 2, 4_000, { rows: 9, worker: 'pod-b' }),
    ],
    expected: {
      ...blocks,
      state: 'succeeded',
      attempts: 2,
      worker: 'pod-b',
      startedAt: 3_000,
      finishedAt: 4_000,
      rows: 9,
      lastError: 'rpc: refused',
    },
  },
];
