// Time fields as the API server writes them. client-node turns metav1.Time into Date on typed
// reads but leaves it a string in watch events and custom objects (client-node #655); MicroTime
// (Lease and Event times) stays a string everywhere, and must be sent with six fractional
// digits or the server answers 400. The adapter hands out strings only, in the server's format.

/** RFC 3339 at second precision, as metav1.Time serialises ("2026-05-01T10:00:00Z"). */
export function kubeTime(date: Date): string {
  const iso = date.toISOString();
  return date.getUTCMilliseconds() === 0 ? `${iso.slice(0, 19)}Z` : iso;
}

/**
 * metav1.Time as the API server stores it, the fraction dropped ("2026-05-01T10:00:00Z"): what
 * a kubelet writes, so a time written and the same time read back compare equal.
 */
export function wholeSecondTime(value: Date | string): string {
  const date = typeof value === 'string' ? new Date(value) : value;
  return `${date.toISOString().slice(0, 19)}Z`;
}

/** metav1.MicroTime: six fractional digits ("2026-05-01T10:00:00.123000Z"). */
export function microTime(date: Date): string {
  return `${date.toISOString().slice(0, 23)}000Z`;
}

/**
 * A copy with every Date replaced by its kubeTime string, so an object from a typed list and
 * the same object from a watch compare equal.
 */
export function normalizeDates<T>(value: T): T {
  return normalize(value) as T;
}

function normalize(value: unknown): unknown {
  if (value instanceof Date) return kubeTime(value);
  if (Array.isArray(value)) return value.map(normalize);
  if (value && typeof value === 'object') {
    const copy: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(value)) if (field !== undefined) copy[key] = normalize(field);
    return copy;
  }
  return value;
}

/** Milliseconds since the epoch of a time field, whatever form it arrived in; NaN when absent. */
export function timeMs(value: string | Date | undefined | null): number {
  if (value === undefined || value === null) return Number.NaN;
  return value instanceof Date ? value.getTime() : Date.parse(value);
}
