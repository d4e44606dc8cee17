// What the ModelSchedule controller needs from the world, in its own words. The operator wires
// these to the Kubernetes API (the informers' caches and the API server), ClickHouse (the
// markers) and the chains' JSON-RPC endpoints (operator/modelScheduleWiring.ts).
import type { Logger } from 'pino';
import type { Chains } from '../../dataplane/chains.ts';
import type { MarkerStore } from '../../dataplane/markers.ts';
import type { ModelRun, ModelSchedule, ModelScheduleStatus } from '../../crds/generated/types.ts';

export interface ScheduleStore {
  /** From the informer's cache: undefined when the schedule is gone. */
  get(namespace: string, name: string): ModelSchedule | undefined;
  applyStatus(schedule: ModelSchedule, status: ModelScheduleStatus): Promise<void>;
}

export type CreateOutcome = { created: true; run: ModelRun } | { created: false };

export interface ScheduledRunStore {
  /** From the informer's cache: the runs in `namespace` whose controller is the schedule with this uid. */
  ownedBy(namespace: string, scheduleUid: string): ModelRun[];
  /** From the cache: the run of that name, whoever owns it. */
  find(namespace: string, name: string): ModelRun | undefined;
  /** `created: false` when a run of that name exists already (AlreadyExists is success). */
  create(run: ModelRun): Promise<CreateOutcome>;
  /** Sets the run's activeDeadlineSeconds (and says why in an annotation), so its controller expires it. */
  expire(namespace: string, name: string, uid: string, activeDeadlineSeconds: number): Promise<void>;
  /** Deletes this incarnation of the run; a run already gone is fine. */
  delete(namespace: string, name: string, uid: string): Promise<void>;
}

export interface ChainReader {
  /** The chain's tip minus its safety distance; undefined when the operator cannot read the chain. */
  lastSafeBlock(chain: string): Promise<number | undefined>;
  /** The block's timestamp; undefined when the chain cannot be read. */
  blockTime(chain: string, block: number): Promise<Date | undefined>;
  /** The first block of a UTC day (YYYY-MM-DD); undefined when the chain has not reached it or cannot be read. */
  firstBlockOfDay(chain: string, dt: string): Promise<number | undefined>;
}

export interface ScheduleEvents {
  record(schedule: ModelSchedule, type: 'Normal' | 'Warning', reason: string, note: string): void;
}

export interface ModelScheduleSettings {
  chains: Chains;
  /** At most one status write per schedule per interval when only its numbers (lag, pending) moved. */
  statusIntervalMs: number;
}

export interface ModelSchedulePorts {
  schedules: ScheduleStore;
  runs: ScheduledRunStore;
  markers: Pick<MarkerStore, 'batchesCompleteInAll' | 'dayRanges'>;
  chains: ChainReader;
  events: ScheduleEvents;
  settings: ModelScheduleSettings;
  clock: () => Date;
  log: Logger;
}
