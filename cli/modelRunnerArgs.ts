// Pure: the command line of `model-runner` → what to do. No env, no I/O: the caller
// passes the environment in, so every default is visible and testable.
import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';
import {
  CHAIN_NAME,
  MODEL_NAME,
  NAMESPACE_NAME,
  RUN_NAME,
  RUN_UID,
  followsNameRule,
  nameRuleProblem,
} from '../contract/names.ts';
import { RUN_PHASES, type RunPhaseName } from '../contract/runHistory.ts';
import {
  RPC_CLIENT_SETTINGS,
  type RpcClientSettings,
  parseRpcClientOverrides,
} from '../dataplane/rpcClientSettings.ts';
import { assertRootPath } from '../dataplane/validNames.ts';

export const USAGE = `usage:
  model-runner models list [--json]
  model-runner models run <model> --chain <chain> --blocks <first>-<last> [options]
  model-runner runs list [--model <m>] [--chain <c>] [--phase <p>] [--since 24h|7d|YYYY-MM-DD] [--limit <n>] [--json]
  model-runner runs show <uid|namespace/name> [--json]
  model-runner coverage --chain <chain> [--root-path <path>]... [--days <n>] [--json]

run options:
  --chain <name>              a chain of chains/chains.json (e.g. local, ethereum)
  --blocks <first>-<last>     inclusive block range; whole covering batches are run
  --rpc <url>                 JSON-RPC endpoint (default: the chain's env var, e.g. ETH_RPC_URL)
  --lake <dir|gs://b/p>       data lake (default: LAKE_URL)
  --clickhouse <url>          marker store: http(s)://user:pass@host:port, or chdb:///dir for an
                              embedded one (default: CLICKHOUSE_URL; required one way or the other)
  --clickhouse-database <db>  database of blockbatch_markers (default: CLICKHOUSE_DATABASE or "default")
  --redis <url>               token metadata cache (default: REDIS_URL; none = no cache)
  --redis-prefix <prefix>     key prefix of that cache (default: "model-runner:", the workers' own)
JSON-RPC client (default: the chain's rpcClient settings in chains/chains.json):
  --rpc-batch-size <n>        calls per batched request (lowered on its own if the endpoint refuses)
  --rpc-concurrency <n>       HTTP requests in flight at once
  --rps <n>                   JSON-RPC calls per second (0 = unlimited)
  --logs-block-range <n>      blocks per eth_getLogs query (0 = a batch's whole range)

  --force                     rewrite batches whose markers are complete
  --json                      print the summary as JSON
  --verbose                   log progress (pino JSON on stderr)

runs (the operator's run history in Postgres, at DATABASE_URL):
  list                        newest first: --model, --chain and --phase filter (Pending, Running,
                              Succeeded, Failed, Expired); --since keeps runs created in the last
                              <n>m, <n>h or <n>d, or since a UTC day; --limit (default 100)
  show <uid|namespace/name>   one run, its phases and its batches; a name shows its newest run


coverage: per UTC day and root path, the blocks expected against the blocks covered by complete
markers, the missing ranges, and each root path's lag at the chain's tip
  --root-path <path>          a root path, e.g. ingestion/logs_v1 (repeatable; default: every
                              root path with markers on the chain)
  --days <n>                  the last n UTC days, today included (default 7, at most 366)
  --clickhouse, --clickhouse-database   the marker store, as for models run
  --rpc <url>                 the chain's JSON-RPC endpoint, for the tip (default: the chain's env
                              var; without one the tip is the newest ingested block)
  --json                      the report as JSON`;

export class UsageError extends Error {
  override name = 'UsageError';
}

export type CliCommand =
  | { command: 'help' }
  | { command: 'list'; json: boolean }
  | ({ command: 'run' } & RunArguments)
  | RunsCommand
  | ({ command: 'coverage' } & CoverageArguments);

/** `--since`: a time back from now, or a UTC day. Resolved against a clock by `sinceInstant`. */
export type Since = { kind: 'ago'; ms: number } | { kind: 'day'; day: string };

/** A run by its uid, or the newest run of a namespace/name. */
export type RunSelector = { uid: string } | { namespace: string; name: string };

export type RunsCommand =
  | {
      command: 'runs-list';
      databaseUrl: string;
      model?: string;
      chain?: string;
      phase?: RunPhaseName;
      since?: Since;
      limit: number;
      json: boolean;
    }
  | { command: 'runs-show'; databaseUrl: string; run: RunSelector; json: boolean };

export const DEFAULT_RUNS_LIMIT = 100;
const MAX_RUNS_LIMIT = 100_000;
const SINCE_UNITS_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

export interface CoverageArguments {
  chain: string;
  /** Empty: every root path with markers on the chain. */
  rootPaths: string[];
  days: number;
  clickhouseUrl: string;
  clickhouseDatabase: string;
  rpcUrl: string | undefined;
  json: boolean;
}

const MAX_COVERAGE_DAYS = 366;

export interface RunArguments {
  model: string;
  chain: string;
  /** Half-open, as everywhere in the data plane. */
  range: { minBlock: number; maxBlock: number };
  rpcUrl: string | undefined;
  lakeUrl: string;
  clickhouseUrl: string;
  clickhouseDatabase: string;
  redisUrl: string | undefined;
  redisPrefix: string;
  /** Client settings given on the command line; they replace the chain's own. */
  rpcClient: Partial<RpcClientSettings>;
  force: boolean;
  json: boolean;
  verbose: boolean;
}

const RPC_CLIENT_FLAGS = Object.fromEntries(
  Object.values(RPC_CLIENT_SETTINGS).map(({ flag }) => [flag.slice(2), { type: 'string' as const }]),
);

/** `A-B` (inclusive, as people write ranges) → `[A, B+1)`. */
export function parseBlockRange(text: string): { minBlock: number; maxBlock: number } {
  const match = /^(\d{1,15})-(\d{1,15})$/.exec(text);
  if (!match)
    throw new UsageError(`--blocks must be <first>-<last>, e.g. 0-999, not ${JSON.stringify(text)}`);
  const first = Number(match[1]);
  const last = Number(match[2]);
  if (last < first) throw new UsageError(`--blocks ${text}: the last block comes before the first`);
  return { minBlock: first, maxBlock: last + 1 };
}

/** `24h`, `7d`, `30m` or a UTC day `2026-05-01`. */
export function parseSince(text: string): Since {
  const ago = /^(\d{1,6})([mhd])$/.exec(text);
  if (ago && Number(ago[1]) > 0) return { kind: 'ago', ms: Number(ago[1]) * SINCE_UNITS_MS[ago[2]!]! };
  const day = /^\d{4}-\d{2}-\d{2}$/.test(text) ? Date.parse(`${text}T00:00:00Z`) : Number.NaN;
  // Date.parse rolls 2025-02-30 over to March: the day must read back the same.
  if (Number.isFinite(day) && new Date(day).toISOString().startsWith(text)) return { kind: 'day', day: text };
  throw new UsageError(
    `--since must be a time back from now (30m, 24h, 7d) or a UTC day (2026-05-01), not ${JSON.stringify(text)}`,
  );
}

/** The earliest creation time `since` keeps, seen at `now`. */
export function sinceInstant(since: Since, now: Date): Date {
  return since.kind === 'ago' ? new Date(now.getTime() - since.ms) : new Date(`${since.day}T00:00:00Z`);
}

/** `namespace/name` or a uid, each checked by the API's own rules. */
export function parseRunSelector(text: string): RunSelector {
  const [namespace, name, ...rest] = text.split('/');
  if (name === undefined) {
    if (followsNameRule(RUN_UID, text)) return { uid: text };
    throw new UsageError(`${JSON.stringify(text)} is neither a run uid nor namespace/name`);
  }
  if (rest.length === 0 && followsNameRule(NAMESPACE_NAME, namespace) && followsNameRule(RUN_NAME, name)) {
    return { namespace: namespace!, name };
  }
  throw new UsageError(`${JSON.stringify(text)} is not namespace/name (e.g. team-a/transfers-18m)`);
}

type Env = Readonly<Record<string, string | undefined>>;

function databaseUrlFrom(env: Env): string {
  const url = env.DATABASE_URL?.trim();
  if (!url) {
    throw new UsageError(
      'DATABASE_URL is not set: point it at the Postgres the operator keeps its run history in (postgres://user:pass@host:5432/db)',
    );
  }
  if (!/^postgres(ql)?:\/\//.test(url)) throw new UsageError('DATABASE_URL must be a postgres:// URL');
  return url;
}

/** Flags and positionals; an unknown or malformed flag is a usage error. */
function parseFlags<const Options extends ParseArgsOptionsConfig>(argv: readonly string[], options: Options) {
  try {
    return parseArgs({ args: [...argv], allowPositionals: true, strict: true, options });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function parseRunsCommand(argv: readonly string[], env: Env): CliCommand {
  const { values, positionals } = parseFlags(argv, {
    model: { type: 'string' },
    chain: { type: 'string' },
    phase: { type: 'string' },
    since: { type: 'string' },
    limit: { type: 'string' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values.help) return { command: 'help' };
  const [, action, target, ...extra] = positionals;
  if (action === 'show') {
    if (!target) throw new UsageError('runs show needs a run: its uid or namespace/name');
    if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
    const listOnly = (['model', 'chain', 'phase', 'since', 'limit'] as const).filter(
      (key) => values[key] !== undefined,
    );
    if (listOnly.length > 0) throw new UsageError(`runs show takes no --${listOnly[0]}`);
    const run = parseRunSelector(target);
    return { command: 'runs-show', databaseUrl: databaseUrlFrom(env), run, json: values.json };
  }
  if (action !== 'list') throw new UsageError(`unknown command runs ${JSON.stringify(action ?? '')}`);
  if (target !== undefined)
    throw new UsageError('runs list takes no arguments (filter with --model, --chain, --phase, --since)');
  const command: Extract<RunsCommand, { command: 'runs-list' }> = {
    command: 'runs-list',
    databaseUrl: '',
    limit: DEFAULT_RUNS_LIMIT,
    json: values.json,
  };
  for (const [flag, rule] of [
    ['model', MODEL_NAME],
    ['chain', CHAIN_NAME],
  ] as const) {
    const value = values[flag];
    if (value === undefined) continue;
    const problem = nameRuleProblem(rule, value);
    if (problem) throw new UsageError(`--${flag}: ${problem}`);
    command[flag] = value;
  }
  if (values.phase !== undefined) {
    const phase = RUN_PHASES.find((name) => name.toLowerCase() === values.phase!.toLowerCase());
    if (!phase) throw new UsageError(`--phase must be one of ${RUN_PHASES.join(', ')}`);
    command.phase = phase;
  }
  if (values.since !== undefined) command.since = parseSince(values.since);
  if (values.limit !== undefined) {
    const limit = /^\d{1,6}$/.test(values.limit) ? Number(values.limit) : Number.NaN;
    if (!(limit >= 1 && limit <= MAX_RUNS_LIMIT))
      throw new UsageError(`--limit must be a whole number from 1 to ${MAX_RUNS_LIMIT}`);
    command.limit = limit;
  }
  command.databaseUrl = databaseUrlFrom(env);
  return command;
}

export function parseCommandLine(argv: readonly string[], env: Env): CliCommand {
  if (argv.find((arg) => !arg.startsWith('-')) === 'runs') return parseRunsCommand(argv, env);
  const { values, positionals } = parseFlags(argv, {
    chain: { type: 'string' },
    blocks: { type: 'string' },
    rpc: { type: 'string' },
    lake: { type: 'string' },
    clickhouse: { type: 'string' },
    'clickhouse-database': { type: 'string' },
    redis: { type: 'string' },
    'redis-prefix': { type: 'string' },
    ...RPC_CLIENT_FLAGS,
    'root-path': { type: 'string', multiple: true },
    days: { type: 'string' },
    force: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values.help || positionals.length === 0) return { command: 'help' };
  const [group, action, model, ...extra] = positionals;
  if (group === 'coverage') return coverageCommand(values, positionals.slice(1), env);
  if (group !== 'models') throw new UsageError(`unknown command ${JSON.stringify(group)}`);
  if (action === 'list') {
    if (model !== undefined) throw new UsageError('models list takes no arguments');
    return { command: 'list', json: values.json };
  }
  if (action !== 'run') throw new UsageError(`unknown command models ${JSON.stringify(action ?? '')}`);
  if (!model) throw new UsageError('models run needs a model name (see: model-runner models list)');
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  if (!values.chain) throw new UsageError('--chain is required');
  if (!values.blocks) throw new UsageError('--blocks is required');
  const range = parseBlockRange(values.blocks);
  const lakeUrl = values.lake ?? env.LAKE_URL;
  if (!lakeUrl) throw new UsageError('--lake (or LAKE_URL) is required');
  const clickhouseUrl = markerStoreUrl(values.clickhouse, env);
  const redisPrefix = values['redis-prefix'] ?? 'model-runner:';
  if (!/^[A-Za-z0-9:_.-]{1,100}$/.test(redisPrefix))
    throw new UsageError('--redis-prefix: letters, digits and :_.- only');
  let rpcClient: Partial<RpcClientSettings>;
  try {
    rpcClient = parseRpcClientOverrides('flag', values);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return {
    command: 'run',
    model,
    chain: values.chain,
    range,
    rpcUrl: values.rpc,
    lakeUrl,
    clickhouseUrl,
    clickhouseDatabase: values['clickhouse-database'] ?? env.CLICKHOUSE_DATABASE ?? 'default',
    redisUrl: (values.redis ?? env.REDIS_URL) || undefined,
    redisPrefix,
    rpcClient,
    force: values.force,
    json: values.json,
    verbose: values.verbose,
  };
}

function markerStoreUrl(flag: string | undefined, env: Readonly<Record<string, string | undefined>>): string {
  const url = flag ?? env.CLICKHOUSE_URL;
  if (!url) {
    throw new UsageError(
      'a marker store is required: --clickhouse http://host:8123 (or CLICKHOUSE_URL), or --clickhouse chdb:///dir for an embedded one',
    );
  }
  return url;
}

function coverageCommand(
  values: {
    chain?: string;
    'root-path'?: string[];
    days?: string;
    clickhouse?: string;
    'clickhouse-database'?: string;
    rpc?: string;
    json: boolean;
  },
  extra: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): CliCommand {
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  if (!values.chain) throw new UsageError('--chain is required');
  const daysText = values.days ?? '7';
  if (!/^\d{1,3}$/.test(daysText) || Number(daysText) < 1 || Number(daysText) > MAX_COVERAGE_DAYS) {
    throw new UsageError(
      `--days must be a whole number from 1 to ${MAX_COVERAGE_DAYS}, not ${JSON.stringify(daysText)}`,
    );
  }
  for (const rootPath of values['root-path'] ?? []) {
    try {
      assertRootPath(rootPath);
    } catch (error) {
      throw new UsageError(`--root-path: ${(error as Error).message}`);
    }
  }
  return {
    command: 'coverage',
    chain: values.chain,
    rootPaths: [...new Set(values['root-path'] ?? [])],
    days: Number(daysText),
    clickhouseUrl: markerStoreUrl(values.clickhouse, env),
    clickhouseDatabase: values['clickhouse-database'] ?? env.CLICKHOUSE_DATABASE ?? 'default',
    rpcUrl: values.rpc,
    json: values.json,
  };
}
