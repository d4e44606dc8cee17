// What the ModelRun controller needs from the world, in its own words. The operator wires
// these to the Kubernetes API, RabbitMQ, Redis, ClickHouse and the chains' JSON-RPC endpoints
// (operator/modelRunWiring.ts); nothing in the controller knows which client serves them.
import type { V1Job } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { BatchOutcome } from '../../contract/batchOutcomes.ts';
import type { BatchMessage } from '../../contract/batchMessage.ts';
import type { Chains } from '../../dataplane/chains.ts';
import type { MarkerStore } from '../../dataplane/markers.ts';
import type { ModelRun, ModelRunStatus } from '../../crds/generated/types.ts';
import type { WorkerPodSettings } from '../planning/indexedJob.ts';
import type { RecordedFailure } from '../planning/runStatus.ts';

export const MODEL_RUN_FINALIZER = 'modelrunner.io/cancel-queued-batches';

export interface ModelRunStore {
  /** From the informer's cache: undefined when the run is gone. */
  get(namespace: string, name: string): ModelRun | undefined;
  applyStatus(run: ModelRun, status: ModelRunStatus): Promise<void>;
  addFinalizer(run: ModelRun, finalizer: string): Promise<ModelRun>;
  removeFinalizer(run: ModelRun, finalizer: string): Promise<void>;
  /** Deletes this incarnation of the run (TTL after finished). */
  delete(run: ModelRun): Promise<void>;
}

export interface JobStore {
  get(namespace: string, name: string): Promise<V1Job | undefined>;
  create(job: V1Job): Promise<void>;
  setSuspend(namespace: string, name: string, suspend: boolean): Promise<void>;
  delete(namespace: string, name: string): Promise<void>;
}

export interface SecretPresence {
  /** Whether the Secret exists; its data is never read. */
  exists(namespace: string, name: string): Promise<boolean>;
}

/** What workers reported for a run, and what the operator sent. */
export interface RunLedger {
  outcomes(runUid: string): Promise<Map<string, BatchOutcome>>;
  /** The batches failed for good (by batch id) and the time of the latest report, in one read. */
  progress(runUid: string): Promise<{ failures: Map<string, RecordedFailure>; lastProgressAt?: Date }>;
  dispatched(runUid: string): Promise<Set<string>>;
  recordDispatched(runUid: string, batchIds: readonly string[]): Promise<void>;
  markCancelled(runUid: string): Promise<void>;
}

export interface QueueDispatch {
  send(queue: string, messages: readonly BatchMessage[]): Promise<void>;
  consumers(queue: string): Promise<number>;
}

export interface ChainTips {
  /** The chain's tip minus its safety distance; undefined when the operator cannot read the chain. */
  lastSafeBlock(chain: string): Promise<number | undefined>;
}

export interface RunEvents {
  record(run: ModelRun, type: 'Normal' | 'Warning', reason: string, note: string): void;
}

export interface ModelRunSettings {
  chains: Chains;
  worker: WorkerPodSettings;
  /** Batches of one run out at once (queue executor). */
  maxInFlightPerRun: number;
  /** While a run is going: how often progress is folded into status (at most one write per run per interval). */
  statusIntervalMs: number;
  /** How often a run waiting for its inputs or the tip looks again. */
  waitPollMs: number;
}

export interface ModelRunPorts {
  runs: ModelRunStore;
  jobs: JobStore;
  secrets: SecretPresence;
  markers: Pick<MarkerStore, 'batchesCompleteInAll' | 'dayRanges'>;
  ledger: RunLedger;
  queues: QueueDispatch;
  tips: ChainTips;
  events: RunEvents;
  settings: ModelRunSettings;
  clock: () => Date;
  log: Logger;
}
