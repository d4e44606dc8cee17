// How many workers a WorkerPool should have. Pure: the depth, the current count and the recent
// recommendations come in, the count and why come out.
//
// - The depth is ready + unacknowledged messages: a batch being worked is work, so busy workers
//   are never mistaken for an idle queue (KEDA's AMQP mode counted ready messages only).
// - Recommended = ceil(depth / targetMessagesPerReplica), within [minReplicas, maxReplicas].
// - The 0 ↔ 1 step: at most activationThreshold messages and none being worked recommends zero.
// - Scale-up is immediate; scale-down takes the highest recommendation of the last cooldown (an
//   HPA's stabilisation window), so a dip between two polls never removes workers.
// - The count is absolute and compared with the Deployment's replicas, never with ready pods:
//   pods still Pending or starting count as capacity, so a slow start never adds replicas.
// - Without a depth (the broker cannot be read) nothing changes: no decision on missing data.

export interface QueueDepthReading {
  ready: number;
  unacked: number;
}

export interface AutoscalingSettings {
  targetMessagesPerReplica: number;
  activationThreshold: number;
  cooldownMs: number;
}

export interface ReplicaBounds {
  min: number;
  max: number;
}

/** One reading's recommendation, kept for the cooldown window. */
export interface Recommendation {
  atMs: number;
  replicas: number;
}

export type ScaleReason = 'Activated' | 'ScaledUp' | 'ScaledDown' | 'ScaledToZero' | 'Replicas';

export interface AutoscaleInput {
  bounds: ReplicaBounds;
  settings: AutoscalingSettings;
  /** undefined: the depth could not be read. */
  depth: QueueDepthReading | undefined;
  /** The Deployment's replicas now (0 when there is none yet). */
  current: number;
  /**
   * The recommendations of the cooldown window as the last decision left them; undefined when
   * this process has none (it just started or just took over): the current count then stands
   * for a full cooldown, as if the depth had just asked for it.
   */
  window: readonly Recommendation[] | undefined;
  nowMs: number;
}

export interface AutoscaleDecision {
  replicas: number;
  /** What the depth alone asks for, within the bounds; undefined without a depth. */
  recommended: number | undefined;
  /** The depth asked for more than maxReplicas or fewer than minReplicas. */
  limitedBy: 'maxReplicas' | 'minReplicas' | undefined;
  /** A scale-down held by the cooldown may happen from then on. */
  heldUntilMs: number | undefined;
  window: Recommendation[];
  /** The depth in words, e.g. "23 messages (20 ready, 3 unacknowledged) at 5 per worker". */
  explanation: string;
}

export function clampReplicas(replicas: number, bounds: ReplicaBounds): number {
  return Math.min(bounds.max, Math.max(bounds.min, replicas));
}

/** Workers the depth asks for, before the bounds. */
export function replicasForDepth(depth: QueueDepthReading, settings: AutoscalingSettings): number {
  const total = depth.ready + depth.unacked;
  if (total <= settings.activationThreshold && depth.unacked === 0) return 0;
  return Math.ceil(total / settings.targetMessagesPerReplica);
}

export function describeDepth(depth: QueueDepthReading, settings: AutoscalingSettings): string {
  const total = depth.ready + depth.unacked;
  const text = `${total} messages (${depth.ready} ready, ${depth.unacked} unacknowledged) at ${settings.targetMessagesPerReplica} per worker`;
  const asleep = total > 0 && replicasForDepth(depth, settings) === 0;
  return asleep ? `${text}, not above the activation threshold ${settings.activationThreshold}` : text;
}

/** The window without what the cooldown forgot, plus `sample`; kept decreasing, so its first entry is its maximum. */
function addToWindow(
  window: readonly Recommendation[],
  sample: Recommendation,
  cooldownMs: number,
): Recommendation[] {
  const kept = window.filter((entry) => entry.atMs > sample.atMs - cooldownMs);
  while (kept.length > 0 && kept[kept.length - 1]!.replicas <= sample.replicas) kept.pop();
  kept.push(sample);
  return kept;
}

export function decideAutoscale(input: AutoscaleInput): AutoscaleDecision {
  const { bounds, settings, depth, current, nowMs } = input;
  const held = clampReplicas(current, bounds);
  if (!depth) {
    return {
      replicas: held,
      recommended: undefined,
      limitedBy: undefined,
      heldUntilMs: undefined,
      window: [...(input.window ?? [])],
      explanation: 'queue depth unknown',
    };
  }
  const wanted = replicasForDepth(depth, settings);
  const recommended = clampReplicas(wanted, bounds);
  const limitedBy = wanted > bounds.max ? 'maxReplicas' : wanted < bounds.min ? 'minReplicas' : undefined;
  const seeded = input.window ?? [{ atMs: nowMs, replicas: current }];
  const window = addToWindow(seeded, { atMs: nowMs, replicas: recommended }, settings.cooldownMs);
  const replicas =
    recommended >= current ? recommended : clampReplicas(Math.min(current, window[0]!.replicas), bounds);
  let heldUntilMs: number | undefined;
  if (replicas > recommended) {
    const holding = window.filter((entry) => entry.replicas >= replicas);
    heldUntilMs = holding[holding.length - 1]!.atMs + settings.cooldownMs;
  }
  return {
    replicas,
    recommended,
    limitedBy,
    heldUntilMs,
    window,
    explanation: describeDepth(depth, settings),
  };
}

/** Why the worker count changed from `from` to `to`; undefined when it did not. */
export function scaleReason(from: number, to: number, autoscaled: boolean): ScaleReason | undefined {
  if (from === to) return undefined;
  if (!autoscaled) return 'Replicas';
  if (from === 0) return 'Activated';
  if (to === 0) return 'ScaledToZero';
  return to > from ? 'ScaledUp' : 'ScaledDown';
}
