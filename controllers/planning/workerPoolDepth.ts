// The depth of a WorkerPool's queues, from two views that each miss something:
// - a passive declare (AMQP checkQueue) counts ready messages and consumers exactly and at once,
//   but not the unacked messages workers hold;
// - the RabbitMQ management API counts unacked too, but shows a publish seconds late (2.4 to
//   3.9 s on the stack), so a pool reading it alone decided on a new backlog up to ~9 s late.
// Pure: both readings in, the pool's depth out.
import type { PoolDepth } from './workerPoolStatus.ts';

/** A passive declare's answer for one queue. */
export interface FreshQueueCounts {
  ready: number;
  consumers: number;
}

/** The management API's figures for one queue. */
export interface ManagedQueueFigures {
  ready: number;
  unacked: number;
  consumers: number;
}

/**
 * The ready messages one queue counts for the decision: the larger of the two views, so the depth
 * is max(fresh.ready + unacked, managed.ready + unacked). A new backlog counts at once (fresh);
 * a message the management API still shows as ready while the broker has delivered it is not
 * lost between the two views (the fresh view no longer has it as ready, the managed one not yet
 * as unacked); finished work the management API has not seen go only delays a scale-down.
 */
export function readyCounted(fresh: FreshQueueCounts, managed: ManagedQueueFigures | undefined): number {
  return Math.max(fresh.ready, managed?.ready ?? 0);
}

/**
 * The pool's depth over its queues. `fresh` holds each queue's passive declare (null: the broker
 * says it does not exist, which outranks a management API that still lists it); undefined when
 * the declares could not be made: then the management API's figures stand alone.
 */
export function poolDepth(
  queues: readonly string[],
  managed: ReadonlyMap<string, ManagedQueueFigures>,
  fresh: ReadonlyMap<string, FreshQueueCounts | null> | undefined,
): PoolDepth {
  const depth: PoolDepth = { ready: 0, countedReady: 0, unacked: 0, consumers: 0, missingQueues: [] };
  for (const queue of queues) {
    const figures = managed.get(queue);
    const counts = fresh === undefined ? figures : fresh.get(queue);
    if (!counts) {
      depth.missingQueues.push(queue);
      continue;
    }
    depth.ready += counts.ready;
    depth.countedReady += fresh === undefined ? counts.ready : readyCounted(counts, figures);
    depth.unacked += figures?.unacked ?? 0;
    depth.consumers += counts.consumers;
  }
  return depth;
}
