// Shared by the operator runtime's integration tests: a logger that keeps what it logged (to
// assert on warnings) and a kubeconfig that reaches the API server through a test's own proxy.
import type { KubeConfig } from '@kubernetes/client-node';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { kubeConfig } from '../../support/kube.ts';
import { stackEnv } from '../../../devtools/stackEnv.ts';
import { loadKubeConfig } from '../../../adapters/kube/index.ts';

export interface CapturedLog {
  log: Logger;
  lines: () => Record<string, unknown>[];
}

/** A pino logger writing JSON lines to memory (and nothing to the console). */
export function capturedLog(): CapturedLog {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line));
      callback();
    },
  });
  return { log: pino({ level: 'debug' }, sink), lines: () => lines };
}

/** The stack's API server as host and port, for a TcpProxy in front of it. */
export function apiServerAddress(): { host: string; port: number } {
  const url = new URL(kubeConfig().getCurrentCluster()!.server);
  return { host: url.hostname, port: Number(url.port) };
}

/** The admin kubeconfig, with the server replaced by 127.0.0.1:`port` (the API server's cert covers 127.0.0.1). */
export function kubeConfigThrough(port: number): KubeConfig {
  const config = loadKubeConfig({ KUBECONFIG: stackEnv().KUBECONFIG });
  config.clusters = config.clusters.map((cluster) => ({ ...cluster, server: `https://127.0.0.1:${port}` }));
  return config;
}
