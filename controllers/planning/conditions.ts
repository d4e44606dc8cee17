// metav1.Condition bookkeeping, the one place that edits a conditions list. lastTransitionTime
// moves only when a condition's status flips (cert-manager's rule), so a reconcile that sees
// the same world writes the same conditions and no status write is needed.
import type { Condition } from '../../crds/generated/types.ts';

export type ConditionStatus = Condition['status'];

export interface ConditionUpdate {
  type: string;
  status: ConditionStatus;
  /** CamelCase, a constant of the controller. */
  reason: string;
  /** For people: what is wrong and what to do. */
  message: string;
}

/** The conditions with `update` applied; the others are kept as they are. */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  update: ConditionUpdate,
  observedGeneration: number,
  now: Date,
): Condition[] {
  const current = conditions?.find((condition) => condition.type === update.type);
  const next: Condition = {
    type: update.type,
    status: update.status,
    reason: update.reason,
    message: update.message.slice(0, 32_768),
    observedGeneration,
    lastTransitionTime:
      current && current.status === update.status
        ? current.lastTransitionTime
        : now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
  const others = (conditions ?? []).filter((condition) => condition.type !== update.type);
  return [...others, next].sort((a, b) => a.type.localeCompare(b.type));
}

/** Removes a condition (a concern that no longer applies, e.g. no Job to wait for). */
export function removeCondition(conditions: readonly Condition[] | undefined, type: string): Condition[] {
  return (conditions ?? []).filter((condition) => condition.type !== type);
}

export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((condition) => condition.type === type);
}

export function isConditionTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === 'True';
}
