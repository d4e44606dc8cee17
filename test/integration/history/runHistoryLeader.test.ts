// Two operator processes on one history database: they start at once and both migrate without
// colliding (one applies the schema, the other finds it done); only the leader writes rows, and
// after the leader stops the other takes over the writing; no row is ever written twice. Who
// wrote what is recorded by a trigger the test adds to the tables (each operator connects under
// its own application_name). The runs are dry runs, so no pod runs; batch facts for one of
// them are reported into Redis as a worker reports them.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { BatchFactEvent } from '../../../contract/batchFacts.ts';
import type { ModelRun } from '../../../crds/generated/types.ts';
import { applicationName } from '../../../operator/history/runHistoryWiring.ts';
import { pollUntil } from '../../support/kube.ts';
import { uniqueName } from '../../support/names.ts';
import { HistoryTestWorld, type OperatorProcess } from './operatorHarness.ts';

let world: HistoryTestWorld;

before(async () => {
  world = await HistoryTestWorld.create({ podRunner: false });
});

after(async () => {
  await world?.cleanup();
});

const AUDIT = `
CREATE TABLE public.history_writes (
  id bigserial PRIMARY KEY,
  table_name text NOT NULL,
  operation text NOT NULL,
  writer text NOT NULL
);
CREATE FUNCTION public.record_history_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO public.history_writes (table_name, operation, writer)
  VALUES (TG_TABLE_NAME, TG_OP, current_setting('application_name'));
  RETURN NEW;
END $$;
CREATE TRIGGER audit AFTER INSERT OR UPDATE ON model_runner.model_runs
  FOR EACH ROW EXECUTE FUNCTION public.record_history_write();
CREATE TRIGGER audit AFTER INSERT OR UPDATE ON model_runner.model_run_batches
  FOR EACH ROW EXECUTE FUNCTION public.record_history_write();
CREATE TRIGGER audit AFTER INSERT OR UPDATE ON model_runner.model_run_transitions
  FOR EACH ROW EXECUTE FUNCTION public.record_history_write();
`;

async function writes(): Promise<{ id: number; table_name: string; operation: string; writer: string }[]> {
  const { rows } = await world.database.pool.query(
    'SELECT id::int, table_name, operation, writer FROM public.history_writes ORDER BY id',
  );
  return rows;
}

const dryRun: ModelRun['spec'] = {
  model: 'ingest',
  chain: 'local',
  blocks: { start: 0, end: 199 },
  executor: 'job',
  dryRun: true,
};

async function succeededInHistory(name: string): Promise<string> {
  const run = await world.waitForPhase(name, ['Succeeded', 'Failed']);
  assert.equal(run.status?.phase, 'Succeeded', world.describe(run));
  const uid = run.metadata!.uid!;
  await world.waitForHistory(`${name} in the history`, uid, (history) => history.run?.phase === 'Succeeded');
  return uid;
}

function leaderOf(operators: OperatorProcess[]): Promise<OperatorProcess> {
  return pollUntil(
    'one operator to lead',
    () => operators.find((operator) => operator.logged('run history: writing as leader').length > 0),
    { timeoutMs: 40_000, describe: () => world.operatorOutput() },
  );
}

test('two operators: both migrate at once, only the leader writes, the other takes over, no row twice', async () => {
  const operators = [world.startOperator(uniqueName('hist-a')), world.startOperator(uniqueName('hist-b'))];
  const ready = await Promise.all(
    operators.map((operator) => operator.waitForLog('run history schema ready')),
  );
  assert.deepEqual(
    ready.map((line) => (line.applied as number[]).length).sort(),
    [0, 1],
    'one applied the migration, the other found it done',
  );
  await world.database.pool.query(AUDIT);

  const leader = await leaderOf(operators);
  const standby = operators.find((operator) => operator !== leader)!;
  await world.createRun('first', dryRun);
  await world.createRun('second', dryRun);
  const first = await succeededInHistory('first');
  await succeededInHistory('second');
  // Two batches of `first`, reported as a worker reports them.
  for (const minBlock of [0, 100]) {
    const base = { minBlock, maxBlock: minBlock + 100, attempt: 1, worker: 'worker-0' };
    const started: BatchFactEvent = { kind: 'started', ...base, at: Date.now() };
    await world.progress.recordBatchFact(first, `local/ingest/${minBlock}`, started);
    await world.progress.recordBatchFact(first, `local/ingest/${minBlock}`, {
      ...base,
      kind: 'finished',
      state: 'succeeded',
      rows: 10 + minBlock,
      at: Date.now(),
    });
  }
  await world.waitForHistory('the batches of first', first, (history) => history.batches.length === 2);

  const byLeader = await writes();
  assert.ok(byLeader.length > 0);
  assert.deepEqual([...new Set(byLeader.map((write) => write.writer))], [applicationName(leader.identity)]);
  assert.deepEqual(standby.logged('run history written'), [], 'the standby wrote nothing');

  assert.deepEqual(await leader.stop(), { code: 0, signal: null });
  await pollUntil('the standby to lead', () => standby.logged('run history: writing as leader').length > 0, {
    timeoutMs: 40_000,
    describe: () => standby.recentOutput(),
  });
  await world.createRun('third', dryRun);
  await succeededInHistory('third');

  const all = await writes();
  const later = all.slice(byLeader.length);
  assert.ok(later.length > 0);
  assert.deepEqual(
    [...new Set(later.map((write) => write.writer))],
    [applicationName(standby.identity)],
    'after the handover only the new leader writes',
  );
  assert.deepEqual(
    all.filter((write) => write.writer === applicationName(leader.identity)).map((write) => write.id),
    byLeader.map((write) => write.id),
    'the old leader wrote nothing after it stopped',
  );

  // Rewriting the whole cluster on taking over changed nothing it had: each row was inserted
  // once, and updated only when the run changed.
  const counts = await world.database.pool.query(`
    SELECT (SELECT count(*)::int FROM model_runner.model_runs) AS runs,
           (SELECT count(*)::int FROM model_runner.model_run_transitions) AS transitions,
           (SELECT count(*)::int FROM model_runner.model_run_batches) AS batches,
           (SELECT count(*)::int FROM public.history_writes WHERE operation = 'INSERT') AS inserts`);
  assert.deepEqual(counts.rows[0], { runs: 3, transitions: 6, batches: 2, inserts: 3 + 6 + 2 });
});
