// The run history's mirror on the real clients: a small Postgres pool (named after this
// replica, so the database's own views say who writes) and the Redis progress store.
import pg from 'pg';
import type { Logger } from 'pino';
import { migrateHistorySchema } from '../../adapters/postgres/historySchema.ts';
import { RunHistoryStore } from '../../adapters/postgres/runHistoryStore.ts';
import type { RunProgressStore } from '../../adapters/redis/progress.ts';
import type { ModelRun } from '../../crds/generated/types.ts';
import type { Informer } from '../runtime/informer.ts';
import { RunHistoryMirror } from './runHistoryMirror.ts';

export interface RunHistoryWiring {
  databaseUrl: string;
  /** This replica's name (the Lease identity). */
  identity: string;
  runs: Informer<ModelRun>;
  progress: RunProgressStore;
  log: Logger;
}

export interface RunHistory {
  mirror: RunHistoryMirror;
  close(): Promise<void>;
}

/** Postgres limits application_name to 63 bytes. */
export function applicationName(identity: string): string {
  return `model-runner-operator/${identity}`.slice(0, 63);
}

export function openRunHistory(wiring: RunHistoryWiring): RunHistory {
  const pool = new pg.Pool({
    connectionString: wiring.databaseUrl,
    application_name: applicationName(wiring.identity),
    max: 2,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    // A database that accepts a connection and then says nothing must not hold a write forever.
    query_timeout: 30_000,
    statement_timeout: 30_000,
  });
  // An idle connection that breaks (the database restarted) is reported here; the next write
  // opens a new one, and the mirror reports failed writes itself.
  pool.on('error', (error) => wiring.log.debug({ err: error.message }, 'run history: idle connection lost'));
  const store = new RunHistoryStore(pool);
  const mirror = new RunHistoryMirror({
    runs: wiring.runs,
    facts: wiring.progress,
    database: { migrate: () => migrateHistorySchema(pool), write: (rows) => store.write(rows) },
    log: wiring.log,
  });
  return {
    mirror,
    async close() {
      await mirror.stop();
      await pool.end().catch(() => undefined);
    },
  };
}
