// Per-call options for client-node's generated methods. Its patch methods send JSON Patch
// unless told otherwise (src/patch.ts), so every patch names its content type here.
import {
  Observable,
  PatchStrategy,
  setHeaderOptions,
  type ConfigurationOptions,
} from '@kubernetes/client-node';

/** RFC 7386: objects merge, lists and scalars replace, null deletes. */
export const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
/** RFC 6902 operations (add, remove, test, …). */
export const jsonPatch = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
/** Built-in kinds only: custom resources answer 415. */
export const strategicMergePatch = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);
/** Server-side apply: pass `fieldManager` and `force: true` with it; the body names apiVersion, kind, name, namespace. */
export const serverSideApply = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);
/**
 * The object's metadata only (PartialObjectMetadata): e.g. to learn that a Secret exists
 * without its data ever leaving the API server.
 */
export const metadataOnly = setHeaderOptions(
  'Accept',
  'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1',
);

/**
 * Aborts the call after `ms` (and with `signal`, when given): client-node sets no timeout,
 * so a call to a server that stopped answering would otherwise wait for the OS to give up.
 */
export function withTimeout(
  ms: number,
  signal?: AbortSignal,
  options?: ConfigurationOptions,
): ConfigurationOptions {
  const timeout = AbortSignal.timeout(ms);
  const abort = signal ? AbortSignal.any([signal, timeout]) : timeout;
  return {
    ...options,
    middleware: [
      ...(options?.middleware ?? []),
      {
        pre: (context) => {
          context.setSignal(abort);
          return new Observable(Promise.resolve(context));
        },
        post: (response) => new Observable(Promise.resolve(response)),
      },
    ],
    middlewareMergeStrategy: 'append',
  };
}
