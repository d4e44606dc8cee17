// `model-runner runs list|show`: reads the operator's run history from Postgres and prints it.
// Exit codes as the rest of the CLI: 0 printed, 1 the history could not be read (the database
// is unreachable, holds no history, or has no such run).
import pg from 'pg';
import { redactUrl } from '../adapters/redactUrl.ts';
import {
  findRun,
  historySchemaExists,
  listRuns,
  runBatches,
  runTransitions,
} from '../adapters/postgres/runHistoryQueries.ts';
import { type RunsCommand, sinceInstant } from './modelRunnerArgs.ts';
import { formatRunDetails, formatRunList } from './runsOutput.ts';

function reasonOf(error: unknown): string {
  const { message, code } = error as NodeJS.ErrnoException;
  return message || code || String(error);
}

async function printRuns(client: pg.Client, command: RunsCommand, now: Date): Promise<number> {
  if (command.command === 'runs-list') {
    const runs = await listRuns(client, {
      ...(command.model !== undefined ? { model: command.model } : {}),
      ...(command.chain !== undefined ? { chain: command.chain } : {}),
      ...(command.phase !== undefined ? { phase: command.phase } : {}),
      ...(command.since !== undefined ? { since: sinceInstant(command.since, now) } : {}),
      limit: command.limit,
    });
    if (command.json) {
      console.log(JSON.stringify(runs, null, 2));
    } else {
      console.log(formatRunList(runs));
      if (runs.length === command.limit) console.log(`(the newest ${command.limit}; --limit shows more)`);
    }
    return 0;
  }
  // One snapshot: the operator writes a run, its transitions and its batches in one transaction.
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  const run = await findRun(client, command.run);
  if (!run) {
    await client.query('ROLLBACK');
    const which =
      'uid' in command.run ? `uid ${command.run.uid}` : `${command.run.namespace}/${command.run.name}`;
    console.error(`model-runner: the run history has no run ${which}`);
    return 1;
  }
  const transitions = await runTransitions(client, run.uid);
  const batches = await runBatches(client, run.uid);
  await client.query('COMMIT');
  console.log(
    command.json
      ? JSON.stringify({ run, transitions, batches }, null, 2)
      : formatRunDetails(run, transitions, batches),
  );
  return 0;
}

export async function runRunsCommand(command: RunsCommand, now: Date): Promise<number> {
  const where = redactUrl(command.databaseUrl);
  const client = new pg.Client({
    connectionString: command.databaseUrl,
    application_name: 'model-runner-cli',
    connectionTimeoutMillis: 5_000,
    query_timeout: 30_000,
  });
  // A connection that breaks later surfaces as the failed query; this only keeps it from crashing.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    console.error(
      `model-runner: cannot reach the run history database at ${where} (DATABASE_URL): ${reasonOf(error)}`,
    );
    return 1;
  }
  try {
    if (!(await historySchemaExists(client))) {
      console.error(
        `model-runner: ${where} holds no run history: the operator creates the schema model_runner when it starts with DATABASE_URL pointing there`,
      );
      return 1;
    }
    return await printRuns(client, command, now);
  } catch (error) {
    console.error(`model-runner: reading the run history at ${where} failed: ${reasonOf(error)}`);
    return 1;
  } finally {
    await client.end().catch(() => undefined);
  }
}
