// What the runner does about one pod, decided from the pod as the API server has
// it now and from what runs locally. Level-based: the same inputs always give
// the same answer, whichever event woke the reconciler.
import { isTerminalPhase } from './podStatus.ts';

/** The facts about a pod that matter for the decision. */
export interface PodFacts {
  uid: string;
  schedulerName: string | undefined;
  nodeName: string | undefined;
  phase: string | undefined;
  deleting: boolean;
  /** deletionGracePeriodSeconds, else spec.terminationGracePeriodSeconds, else 30. */
  graceSeconds: number;
}

/** What runs locally for the pod's key. */
export interface LocalFacts {
  runtimeUid: string | undefined;
  /** The pod's deletion was completed here already (the object may linger for its finalizers). */
  finalized: boolean;
}

export type PodAction =
  | { kind: 'none'; why: string }
  | { kind: 'stop-local'; why: string }
  | { kind: 'bind' }
  | { kind: 'start' }
  | { kind: 'finalize'; graceSeconds: number };

/** Decides for a pod whose runtime (if any) belongs to it; see decidePodActions for a uid change. */
function decideForPod(pod: PodFacts, local: LocalFacts, nodeName: string): PodAction {
  if (!pod.nodeName) {
    // The API server deletes unbound pods at once; there is nothing to bind then.
    if (pod.schedulerName !== nodeName) return { kind: 'none', why: 'another scheduler' };
    if (pod.deleting) return { kind: 'none', why: 'unbound and being deleted' };
    if (pod.phase && pod.phase !== 'Pending') return { kind: 'none', why: `unbound in phase ${pod.phase}` };
    return { kind: 'bind' };
  }
  if (pod.nodeName !== nodeName) return { kind: 'none', why: `bound to node ${pod.nodeName}` };
  if (pod.deleting) {
    return local.finalized
      ? { kind: 'none', why: 'deletion already completed' }
      : { kind: 'finalize', graceSeconds: pod.graceSeconds };
  }
  if (local.runtimeUid !== undefined) return { kind: 'none', why: 'running' };
  if (isTerminalPhase(pod.phase)) return { kind: 'none', why: `finished (${pod.phase})` };
  return { kind: 'start' };
}

/**
 * The actions for a pod key, in order. A local runtime whose pod is gone, or was
 * replaced by a new pod of the same name, is stopped first.
 */
export function decidePodActions(
  pod: PodFacts | undefined,
  local: LocalFacts,
  nodeName: string,
): PodAction[] {
  const actions: PodAction[] = [];
  let current = local;
  if (local.runtimeUid !== undefined && (!pod || pod.uid !== local.runtimeUid)) {
    actions.push({ kind: 'stop-local', why: pod ? 'the pod was replaced by a new one' : 'the pod is gone' });
    current = { runtimeUid: undefined, finalized: false };
  }
  if (!pod) return actions.length > 0 ? actions : [{ kind: 'none', why: 'the pod is gone' }];
  actions.push(decideForPod(pod, current, nodeName));
  return actions;
}
