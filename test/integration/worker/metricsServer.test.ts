// The worker's /metrics and /healthz over real HTTP on 127.0.0.1.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startMetricsServer } from '../../../adapters/metrics/metricsServer.ts';
import { createWorkerMetrics } from '../../../adapters/metrics/workerMetrics.ts';

test('/metrics serves the worker metrics in Prometheus text; /healthz follows the health probe', async () => {
  const metrics = createWorkerMetrics();
  metrics.blocksModeled.inc({ model: 'erc20_transfers', chain: 'local' }, 100);
  metrics.rowsWritten.inc({ model: 'erc20_transfers', chain: 'local', dataset: 'erc20_transfers' }, 42);
  metrics.batchFailures.inc({ model: 'ingest', chain: 'local', reason: 'rpc' });
  metrics.timeInQueue.observe({ queue: 'local_backfill_nonreads' }, 3);
  let healthy = true;
  const server = await startMetricsServer({
    registry: metrics.registry,
    host: '127.0.0.1',
    port: 0,
    health: () => ({ healthy, details: { rabbitmq: healthy } }),
  });
  try {
    const base = `http://127.0.0.1:${server.port}`;
    const response = await fetch(`${base}/metrics`);
    assert.equal(response.status, 200);
    const text = await response.text();
    assert.match(
      text,
      /^model_runner_worker_blocks_modeled_total\{model="erc20_transfers",chain="local"\} 100$/m,
    );
    assert.match(
      text,
      /^model_runner_worker_rows_written_total\{model="erc20_transfers",chain="local",dataset="erc20_transfers"\} 42$/m,
    );
    assert.match(
      text,
      /^model_runner_worker_batch_failures_total\{model="ingest",chain="local",reason="rpc"\} 1$/m,
    );
    assert.match(
      text,
      /^model_runner_worker_time_in_queue_seconds_count\{queue="local_backfill_nonreads"\} 1$/m,
    );
    assert.match(text, /^model_runner_worker_batches_in_flight 0$/m);
    assert.match(text, /^model_runner_worker_process_resident_memory_bytes \d+/m);

    const ok = await fetch(`${base}/healthz`);
    assert.deepEqual([ok.status, await ok.json()], [200, { status: 'ok', rabbitmq: true }]);
    healthy = false;
    const down = await fetch(`${base}/healthz`);
    assert.deepEqual([down.status, await down.json()], [503, { status: 'unhealthy', rabbitmq: false }]);
    assert.equal((await fetch(`${base}/nope`)).status, 404);
  } finally {
    await server.close();
  }
});
