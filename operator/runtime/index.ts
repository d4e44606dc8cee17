// What every controller runs on: informers, the work queue, leader election, the controller
// manager and the operator's metrics. Nothing here knows about ModelRuns.
export { sleepOn, systemClock, type Clock } from './clock.ts';
export {
  ControllerManager,
  type ControllerManagerOptions,
  type ControllerRegistration,
  type ReconcileOutcome,
  type SecondaryWatch,
} from './controllerManager.ts';
export {
  annotationChanged,
  deletionStarted,
  generationChanged,
  primaryUpdateTrigger,
  type UpdateException,
} from './eventFilter.ts';
export {
  Informer,
  type InformerEventType,
  type InformerHandler,
  type InformerHealth,
  type InformerOptions,
  type RestartReason,
} from './informer.ts';
export {
  DEFAULT_LEADER_ELECTION_TIMINGS,
  LeaderElector,
  type LeaderElectionTimings,
  type LeaderElectorOptions,
} from './leaderElection.ts';
export { controllerOwnerKeys, keyOf, objectKey, parseObjectKey, type ObjectName } from './objectKeys.ts';
export {
  createOperatorMetrics,
  informerRestartHook,
  startOperatorMetricsServer,
  workQueueMetricsHooks,
  type OperatorMetrics,
  type ReconcileResult,
} from './operatorMetrics.ts';
export { DEFAULT_RATE_LIMITER, type RateLimiterOptions } from './rateLimiter.ts';
export { WorkQueue, type WorkQueueHooks, type WorkQueueOptions } from './workQueue.ts';
