// The strict shapes every name and number must have before it reaches a lake path, a
// SQL statement or a marker row. Validating here, once, is what lets the SQL builders
// interpolate values on ClickHouse 18.16, which has no server-side query parameters.
// Names that also travel through the API and the queues (chains, models) follow the
// contract's rules (contract/names.ts); the rest are the data plane's own.
import { CHAIN_NAME, MODEL_NAME, requireName } from '../contract/names.ts';

/** Thrown when a value does not have the shape the data plane accepts. */
export class InvalidValueError extends Error {
  override name = 'InvalidValueError';
}

/** Root paths: `ingestion/logs_v1`, `blockbatch/token_transfers/erc20_transfers_v1`. */
export const ROOT_PATH = /^[a-z0-9_]{1,63}(\/[a-z0-9_]{1,63}){0,7}$/;
/** `YYYY-MM-DD`; the calendar check is in {@link assertDt}. */
export const DT = /^\d{4}-\d{2}-\d{2}$/;
/** Who wrote a marker: a ModelRun (`namespace/name`), a CLI run, a pod or host name. */
export const PROCESS_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:/@-]{0,252}$/;
/** ClickHouse database and table names. */
export const SQL_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

function assertMatches(kind: string, value: unknown, pattern: RegExp): asserts value is string {
  if (typeof value !== 'string' || !pattern.test(value)) {
    throw new InvalidValueError(`invalid ${kind} ${JSON.stringify(value)}: must match ${pattern.source}`);
  }
}

export function assertChainName(value: unknown): asserts value is string {
  requireName(CHAIN_NAME, value, (message) => new InvalidValueError(`invalid ${message}`));
}

export function assertRootPath(value: unknown): asserts value is string {
  assertMatches('root path', value, ROOT_PATH);
}

/** Models and their datasets: one segment of a root path. */
export function assertModelName(kind: 'model' | 'dataset', value: unknown): asserts value is string {
  requireName(
    { ...MODEL_NAME, what: `${kind} name` },
    value,
    (message) => new InvalidValueError(`invalid ${message}`),
  );
}

export function assertProcessName(
  kind: 'process name' | 'writer name',
  value: unknown,
): asserts value is string {
  assertMatches(kind, value, PROCESS_NAME);
}

export function assertSqlIdentifier(value: unknown): asserts value is string {
  assertMatches('SQL identifier', value, SQL_IDENTIFIER);
}

/** A real calendar day in `YYYY-MM-DD` (2024-02-30 is refused). */
export function assertDt(value: unknown): asserts value is string {
  assertMatches('dt', value, DT);
  const parsed = new Date(`${value}T00:00:00Z`);
  if (Number.isNaN(parsed.getTime()) || parsed.toISOString().slice(0, 10) !== value) {
    throw new InvalidValueError(`invalid dt ${JSON.stringify(value)}: not a calendar day`);
  }
}

/** Block numbers, row counts: non-negative integers that a double holds exactly. */
export function assertNonNegativeInteger(kind: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidValueError(`invalid ${kind} ${String(value)}: must be a non-negative safe integer`);
  }
}
