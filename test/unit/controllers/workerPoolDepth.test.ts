import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type FreshQueueCounts,
  type ManagedQueueFigures,
  poolDepth,
} from '../../../controllers/planning/workerPoolDepth.ts';
import type { PoolDepth } from '../../../controllers/planning/workerPoolStatus.ts';

const A = 'local_backfill_nonreads';
const B = 'local_realtime_reads';

const managed = (ready: number, unacked: number, consumers = 1): ManagedQueueFigures => ({
  ready,
  unacked,
  consumers,
});
const fresh = (ready: number, consumers = 1): FreshQueueCounts => ({ ready, consumers });

test('poolDepth: fresh ready and consumers, management unacked; the decision counts the larger ready', () => {
  const cases: [
    string,
    readonly string[],
    Record<string, ManagedQueueFigures>,
    Record<string, FreshQueueCounts | null> | undefined,
    PoolDepth,
  ][] = [
    [
      'a new backlog the management API does not show yet counts at once',
      [A],
      { [A]: managed(0, 0, 0) },
      { [A]: fresh(6, 0) },
      { ready: 6, countedReady: 6, unacked: 0, consumers: 0, missingQueues: [] },
    ],
    [
      'delivered but still ready to the management API: counted once, not lost between the views',
      [A],
      { [A]: managed(4, 1) },
      { [A]: fresh(1, 2) },
      { ready: 1, countedReady: 4, unacked: 1, consumers: 2, missingQueues: [] },
    ],
    [
      'both agree',
      [A],
      { [A]: managed(3, 2, 2) },
      { [A]: fresh(3, 2) },
      { ready: 3, countedReady: 3, unacked: 2, consumers: 2, missingQueues: [] },
    ],
    [
      'a queue too new for the management API exists, its unacked 0',
      [A],
      {},
      { [A]: fresh(2, 1) },
      { ready: 2, countedReady: 2, unacked: 0, consumers: 1, missingQueues: [] },
    ],
    [
      'a queue the broker does not have is missing, even while the management API still lists it',
      [A],
      { [A]: managed(5, 1) },
      { [A]: null },
      { ready: 0, countedReady: 0, unacked: 0, consumers: 0, missingQueues: [A] },
    ],
    [
      'no passive declares: the management API alone',
      [A],
      { [A]: managed(4, 1, 3) },
      undefined,
      { ready: 4, countedReady: 4, unacked: 1, consumers: 3, missingQueues: [] },
    ],
    [
      'no passive declares and a queue the management API does not list: missing',
      [A, B],
      { [B]: managed(1, 0) },
      undefined,
      { ready: 1, countedReady: 1, unacked: 0, consumers: 1, missingQueues: [A] },
    ],
    [
      'summed over the queues, the rule per queue',
      [A, B],
      { [A]: managed(5, 1), [B]: managed(0, 2) },
      { [A]: fresh(0), [B]: fresh(7) },
      { ready: 7, countedReady: 12, unacked: 3, consumers: 2, missingQueues: [] },
    ],
    [
      'no queues',
      [],
      { [A]: managed(5, 1) },
      {},
      { ready: 0, countedReady: 0, unacked: 0, consumers: 0, missingQueues: [] },
    ],
  ];
  for (const [name, queues, figures, counts, expected] of cases) {
    const freshMap = counts === undefined ? undefined : new Map(Object.entries(counts));
    assert.deepEqual(poolDepth(queues, new Map(Object.entries(figures)), freshMap), expected, name);
  }
});
