// The operator's Prometheus metrics, on a registry of its own (prefix model_runner_operator_).
// Labels are bounded: controller and informer names are fixed at start-up, results and
// restart reasons come from fixed vocabularies.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import {
  startMetricsServer,
  type HealthReport,
  type MetricsServer,
} from '../../adapters/metrics/metricsServer.ts';
import type { RestartReason } from './informer.ts';
import type { WorkQueueHooks } from './workQueue.ts';

export type ReconcileResult = 'success' | 'requeue' | 'error' | 'interrupted';

export interface OperatorMetrics {
  registry: Registry;
  reconciles: Counter<'controller' | 'result'>;
  reconcileErrors: Counter<'controller'>;
  reconcileDuration: Histogram<'controller'>;
  workQueueDepth: Gauge<'controller'>;
  workQueueAdds: Counter<'controller'>;
  workQueueRetries: Counter<'controller'>;
  workQueueWait: Histogram<'controller'>;
  informerRestarts: Counter<'informer' | 'reason'>;
  leader: Gauge;
}

export function createOperatorMetrics(options: { defaultMetrics?: boolean } = {}): OperatorMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true)
    collectDefaultMetrics({ register: registry, prefix: 'model_runner_operator_' });
  const registers = [registry];
  return {
    registry,
    reconciles: new Counter({
      name: 'model_runner_operator_reconciles_total',
      help: 'Reconciles by controller and result: success, requeue (asked to look again later), error, interrupted (leadership ended)',
      labelNames: ['controller', 'result'],
      registers,
    }),
    reconcileErrors: new Counter({
      name: 'model_runner_operator_reconcile_errors_total',
      help: 'Reconciles that threw; the key is retried with backoff',
      labelNames: ['controller'],
      registers,
    }),
    reconcileDuration: new Histogram({
      name: 'model_runner_operator_reconcile_duration_seconds',
      help: 'Wall time of one reconcile',
      labelNames: ['controller'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    workQueueDepth: new Gauge({
      name: 'model_runner_operator_workqueue_depth',
      help: 'Keys waiting to be reconciled',
      labelNames: ['controller'],
      registers,
    }),
    workQueueAdds: new Counter({
      name: 'model_runner_operator_workqueue_adds_total',
      help: 'Keys queued (repeated adds of a queued key not counted)',
      labelNames: ['controller'],
      registers,
    }),
    workQueueRetries: new Counter({
      name: 'model_runner_operator_workqueue_retries_total',
      help: 'Rate-limited requeues after a failed reconcile',
      labelNames: ['controller'],
      registers,
    }),
    workQueueWait: new Histogram({
      name: 'model_runner_operator_workqueue_queue_duration_seconds',
      help: 'Time a key waited in the queue before a worker took it',
      labelNames: ['controller'],
      buckets: [0.001, 0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300],
      registers,
    }),
    informerRestarts: new Counter({
      name: 'model_runner_operator_informer_restarts_total',
      help: 'Informer list/watch restarts by reason: error (with backoff), gone (410, relisted), quiet (silent watch)',
      labelNames: ['informer', 'reason'],
      registers,
    }),
    leader: new Gauge({
      name: 'model_runner_operator_leader',
      help: '1 while this replica holds the leader Lease, else 0',
      registers,
    }),
  };
}

/** Work-queue hooks that feed one controller's queue metrics. */
export function workQueueMetricsHooks(metrics: OperatorMetrics, controller: string): WorkQueueHooks {
  return {
    depth: (depth) => metrics.workQueueDepth.set({ controller }, depth),
    added: () => metrics.workQueueAdds.inc({ controller }),
    retried: () => metrics.workQueueRetries.inc({ controller }),
    waited: (ms) => metrics.workQueueWait.observe({ controller }, ms / 1000),
  };
}

/** An informer's onRestart hook that counts its restarts by reason. */
export function informerRestartHook(
  metrics: OperatorMetrics,
  informer: string,
): (reason: RestartReason) => void {
  return (reason) => metrics.informerRestarts.inc({ informer, reason });
}

/**
 * /metrics, /healthz (alive, no informer stuck) and /readyz (caches synced) on host:port
 * (default 127.0.0.1; port 0 picks a free one).
 */
export function startOperatorMetricsServer(options: {
  metrics: OperatorMetrics;
  health: () => HealthReport;
  ready: () => HealthReport;
  host?: string;
  port: number;
}): Promise<MetricsServer> {
  return startMetricsServer({
    registry: options.metrics.registry,
    host: options.host ?? '127.0.0.1',
    port: options.port,
    health: options.health,
    ready: options.ready,
  });
}
