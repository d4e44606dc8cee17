// The one Kubernetes adapter: configuration, clients, patch options, errors, time fields, raw
// list/watch, typed custom resources and Events. Everything that talks to the API server
// (operator, demo, tests, pod runner) goes through here.
export {
  clusterCaPem,
  currentNamespace,
  DEFAULT_SERVICE_ACCOUNT_DIR,
  loadKubeConfig,
  type KubeConfigEnv,
} from './kubeConfig.ts';
export { createKubeClients, type KubeClients } from './kubeClients.ts';
export { applyObject } from './applyObject.ts';
export {
  jsonPatch,
  mergePatch,
  metadataOnly,
  serverSideApply,
  strategicMergePatch,
  withTimeout,
} from './requestOptions.ts';
export {
  apiError,
  apiStatusBody,
  apiStatusCode,
  describeApiError,
  findOrUndefined,
  isAlreadyExists,
  isConflict,
  isForbidden,
  isGone,
  isNotFound,
} from './apiErrors.ts';
export { kubeTime, microTime, normalizeDates, timeMs, wholeSecondTime } from './kubeTime.ts';
export {
  apiVersionOf,
  listWatchClient,
  resourcePath,
  type ListOptions,
  type ListResult,
  type ListWatchClient,
  type ResourceQuery,
  type ResourceRef,
  type WatchEvent,
  type WatchEventType,
  type WatchOptions,
} from './listWatch.ts';
export {
  CustomResourceClient,
  customResourceType,
  type CustomObject,
  type CustomObjectList,
  type CustomResourceType,
  type DeleteOptions,
  type ListSelector,
  type StatusOf,
} from './customResourceClient.ts';
export {
  EventRecorder,
  REPORTING_CONTROLLER,
  type EventDetails,
  type EventRecorderOptions,
} from './eventRecorder.ts';
