// The WorkerPool controller's metrics, on the operator's registry (operator/runtime/
// operatorMetrics.ts): the depth each pool scales on, the workers it wants and has, its scaling
// decisions, and the management API's requests and connections (which should stay at one).
// Pool series are labelled by namespace and pool and dropped when the pool goes.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { PoolMetrics } from '../controllers/workerpool/workerPoolPorts.ts';

export interface WorkerPoolMetrics extends PoolMetrics {
  managementRequests: Counter<'result'>;
  managementConnections: Counter;
}

export function createWorkerPoolMetrics(registry: Registry): WorkerPoolMetrics {
  const registers = [registry];
  const messages = new Gauge({
    name: 'model_runner_operator_workerpool_queue_messages',
    help: "Messages in a pool's queues when last read, by state: ready (waiting) or unacked (being worked)",
    labelNames: ['namespace', 'workerpool', 'state'],
    registers,
  });
  const replicas = new Gauge({
    name: 'model_runner_operator_workerpool_replicas',
    help: "A pool's workers: desired (the operator's decision) and ready",
    labelNames: ['namespace', 'workerpool', 'kind'],
    registers,
  });
  const decisions = new Counter({
    name: 'model_runner_operator_workerpool_scale_decisions_total',
    help: 'Changes of the worker count by reason: Activated, ScaledUp, ScaledDown, ScaledToZero, Replicas',
    labelNames: ['namespace', 'workerpool', 'reason'],
    registers,
  });
  const labelsOf = (pool: { metadata?: { namespace?: string; name?: string } }) => ({
    namespace: pool.metadata?.namespace ?? '',
    workerpool: pool.metadata?.name ?? '',
  });
  return {
    managementRequests: new Counter({
      name: 'model_runner_operator_rabbitmq_management_requests_total',
      help: 'Requests to the RabbitMQ management API (queue depth, workers in flight) by result: ok, error',
      labelNames: ['result'],
      registers,
    }),
    managementConnections: new Counter({
      name: 'model_runner_operator_rabbitmq_management_connections_opened_total',
      help: 'TCP connections opened to the RabbitMQ management API (one kept alive for every pool)',
      registers,
    }),
    observed(pool, figures) {
      const labels = labelsOf(pool);
      if (figures.ready !== undefined) messages.set({ ...labels, state: 'ready' }, figures.ready);
      if (figures.unacked !== undefined) messages.set({ ...labels, state: 'unacked' }, figures.unacked);
      replicas.set({ ...labels, kind: 'desired' }, figures.desired);
      replicas.set({ ...labels, kind: 'ready' }, figures.readyReplicas);
    },
    scaled(pool, reason) {
      decisions.inc({ ...labelsOf(pool), reason });
    },
    forget(namespace, workerpool) {
      for (const state of ['ready', 'unacked']) messages.remove({ namespace, workerpool, state });
      for (const kind of ['desired', 'ready']) replicas.remove({ namespace, workerpool, kind });
      for (const reason of ['Activated', 'ScaledUp', 'ScaledDown', 'ScaledToZero', 'Replicas']) {
        decisions.remove({ namespace, workerpool, reason });
      }
    },
  };
}
