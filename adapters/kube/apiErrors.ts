// What a failed API call means, from client-node's ApiException (`code`, `body`) or from our
// own list/watch requests, which throw the same shape.
import { ApiException } from '@kubernetes/client-node';

/** The HTTP status of a failed API call, if the server answered at all. */
export function apiStatusCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

export const isNotFound = (error: unknown): boolean => apiStatusCode(error) === 404;
/** 403: RBAC does not allow the call (a missing Role rule, not a transient failure). */
export const isForbidden = (error: unknown): boolean => apiStatusCode(error) === 403;
/** 409 from an update with a stale resourceVersion or a failed uid precondition: re-read and retry. */
export const isConflict = (error: unknown): boolean =>
  apiStatusCode(error) === 409 && statusReason(error) !== 'AlreadyExists';
export const isAlreadyExists = (error: unknown): boolean =>
  apiStatusCode(error) === 409 && statusReason(error) === 'AlreadyExists';
/** 410: the resourceVersion a watch asked for is compacted away; list afresh. */
export const isGone = (error: unknown): boolean => apiStatusCode(error) === 410;

/** The object, or undefined when the API server answers 404. */
export async function findOrUndefined<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

interface StatusBody {
  reason?: string;
  message?: string;
}

/** The metav1.Status the server sent with an error (client-node keeps it as a string or an object). */
export function apiStatusBody(error: unknown): StatusBody | undefined {
  const body = (error as { body?: unknown } | undefined)?.body;
  if (typeof body === 'string') {
    try {
      return JSON.parse(body) as StatusBody;
    } catch {
      return undefined;
    }
  }
  return body && typeof body === 'object' ? (body as StatusBody) : undefined;
}

function statusReason(error: unknown): string | undefined {
  return apiStatusBody(error)?.reason;
}

/**
 * One line for a log: "409 Conflict: Operation cannot be fulfilled …". ApiException's own
 * message carries every response header, which is noise in a log.
 */
export function describeApiError(error: unknown): string {
  const code = apiStatusCode(error);
  if (code === undefined) return error instanceof Error ? error.message : String(error);
  const status = apiStatusBody(error);
  return `${code}${status?.reason ? ` ${status.reason}` : ''}: ${status?.message ?? 'no message'}`;
}

/** The error our own requests throw: the same shape as client-node's, so the helpers above apply. */
export function apiError(code: number, body: unknown): ApiException<unknown> {
  const status = typeof body === 'object' && body ? (body as StatusBody) : undefined;
  return new ApiException(code, status?.message ?? `HTTP ${code}`, body, {});
}
