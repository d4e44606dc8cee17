// The field rules of ingest's SQL path, each the rule of the matching rpcShapes.ts validator:
// a field converts to its typed value, or to NULL when the node's value breaks the rule, and a
// query's WHERE raises a tagged error for the first such field (`checkedWhere`). Converting
// once and testing for NULL keeps both the plan and the per-row work small.
import { duckDbString } from '../../adapters/parquet/duckDbSession.ts';

/** Tags of the errors the queries raise; `IngestSqlError.from` turns them back into values. */
export type ErrorTag =
  /** A field fails validation: the JS validators name it (the caller asks again through them). */
  | 'invalid'
  /** The answers do not describe one chain (a reorg mid-fetch, nodes that disagree): retry the batch. */
  | 'mismatch'
  /** A wei amount of 2^127 or more: run the query again with the sub-range's wide amounts. */
  | 'wide';

const TAG_PREFIX = 'ingest-sql';

export function text(value: string): string {
  return duckDbString(value);
}

/** An error raised by these queries, read back from DuckDB's message. */
export class IngestSqlError extends Error {
  override name = 'IngestSqlError';
  readonly tag: ErrorTag;
  readonly method: string;
  readonly detail: string;

  constructor(tag: ErrorTag, method: string, detail: string) {
    super(`${method}: ${detail}`);
    this.tag = tag;
    this.method = method;
    this.detail = detail;
  }

  /** The tagged error in a DuckDB error, or undefined for any other failure. */
  static from(error: unknown): IngestSqlError | undefined {
    if (error instanceof IngestSqlError) return error;
    const message = error instanceof Error ? error.message : '';
    const match = new RegExp(`${TAG_PREFIX}\\|(invalid|mismatch|wide)\\|([^|]*)\\|([^\\n]*)`).exec(message);
    return match ? new IngestSqlError(match[1] as ErrorTag, match[2]!, match[3]!) : undefined;
  }
}

/** DuckDB's own refusal of a file's JSON (not JSON, a wrong shape): the node's answer is garbage. */
export function isJsonReadError(error: unknown): boolean {
  const message = error instanceof Error ? error.message : '';
  return /^(Invalid Input Error|Conversion Error)/.test(message) && IngestSqlError.from(error) === undefined;
}

/** Wei amounts of 2^127 and more in a sub-range, as `0x…` lower-case hex → decimal text. */
export type WideAmounts = ReadonlyMap<string, string>;
export const NO_WIDE_AMOUNTS: WideAmounts = new Map();

/** One converted field of a query. */
export interface Field {
  /** The column holding the typed value (NULL when the node's value breaks the rule). */
  column: string;
  typed: string;
  /** True when the node's value is there (or required) and broke the rule. */
  broken: string;
  /** The opposite, cheaper to test on every row. */
  ok: string;
  /** For wei amounts: true when the broken value is merely 2^127 or more. */
  wide?: string;
  method: string;
  /** Where the field sits in the answer, for the error (the JS validators' paths). */
  path: string;
}

interface FieldSpec {
  column: string;
  raw: string;
  method: string;
  path: string;
  optional?: boolean;
}

function field(spec: FieldSpec, typed: string, wide?: string): Field {
  const broken = spec.optional
    ? `(${spec.raw} IS NOT NULL AND ${spec.column} IS NULL)`
    : `${spec.column} IS NULL`;
  const ok = spec.optional
    ? `(${spec.raw} IS NULL OR ${spec.column} IS NOT NULL)`
    : `${spec.column} IS NOT NULL`;
  return { column: spec.column, typed, broken, ok, wide, method: spec.method, path: spec.path };
}

const HEX_PREFIXED = (x: string) => `(starts_with(${x}, '0x') AND NOT contains(${x}, '_'))`;

/** A hex quantity that fits a JS number exactly (block numbers, gas, indexes), as BIGINT. */
export function quantity(spec: FieldSpec): Field {
  const value = `TRY_CAST(${spec.raw} AS BIGINT)`;
  return field(
    spec,
    `CASE WHEN ${HEX_PREFIXED(spec.raw)} AND ${value} BETWEEN 0 AND ${Number.MAX_SAFE_INTEGER} THEN ${value} END`,
  );
}

/**
 * A hex quantity of any size (wei) as exact decimal text. Below 2^127 by integer casts (nearly
 * every amount there is); the rest from `wide`, converted by the caller (`wideAmountsSql`).
 */
export function decimal(spec: FieldSpec, wide: WideAmounts): Field {
  const x = spec.raw;
  const digits = `substr(${x}, 3)`;
  const length = `(length(${x}) - 2)`;
  const limb = (from: string, count: string) =>
    `TRY_CAST('0x' || substr(${digits}, ${from}, ${count}) AS UBIGINT)`;
  const small = `CASE WHEN ${length} <= 16 THEN TRY_CAST(${x} AS UBIGINT)::VARCHAR
    ELSE ((${limb('1', `${length} - 16`)}::HUGEINT << 64) | ${limb(`${length} - 15`, '16')}::HUGEINT)::VARCHAR END`;
  const large =
    wide.size === 0
      ? 'NULL'
      : `CASE lower(${x}) ${[...wide].map(([hex, value]) => `WHEN ${text(hex)} THEN ${text(value)}`).join(' ')} END`;
  const typed = `CASE WHEN ${HEX_PREFIXED(x)} AND ${length} BETWEEN 1 AND 64 THEN
    CASE WHEN ${fitsHugeint(x)} THEN ${small} ELSE ${large} END END`;
  return field(spec, typed, `(regexp_full_match(${x}, '0x[0-9a-fA-F]{1,64}') AND NOT ${fitsHugeint(x)})`);
}

/** True for a hex quantity below 2^127 (at most 31 digits, or 32 with a first digit below 8). */
export function fitsHugeint(x: string): string {
  const length = `(length(${x}) - 2)`;
  return `(${length} < 32 OR (${length} = 32 AND substr(${x}, 3, 1) < '8'))`;
}

/**
 * True when `x` is `0x` and whole bytes of hex digits. unhex refuses any other character (a
 * regular expression does the same at a few times the cost); a lone half byte it would accept,
 * so the length is checked apart.
 */
function isHexData(x: string): string {
  return `(starts_with(${x}, '0x') AND length(${x}) % 2 = 0 AND TRY(unhex(substr(${x}, 3))) IS NOT NULL)`;
}

/**
 * `x` lower-cased when `valid` holds, else NULL. Nodes send lower-case hex: a value matching
 * `lowerCasePattern` (one regular expression) goes on as it is; anything else (mixed case, or
 * broken) takes `valid`, whose lower() copies. A seventh less CPU over a heavy chain's inserts
 * than `valid` alone.
 */
function lowerCasedHex(x: string, lowerCasePattern: string, valid: string): string {
  return `CASE WHEN regexp_full_match(${x}, '${lowerCasePattern}') THEN ${x} WHEN ${valid} THEN lower(${x}) END`;
}

/** Hex of a fixed size (hashes: 32 bytes, addresses: 20), lower-cased. */
function fixedHex(spec: FieldSpec, bytes: number): Field {
  const x = spec.raw;
  return field(
    spec,
    lowerCasedHex(x, `0x[0-9a-f]{${bytes * 2}}`, `length(${x}) = ${2 + bytes * 2} AND ${isHexData(x)}`),
  );
}

export const hash = (spec: FieldSpec): Field => fixedHex(spec, 32);
export const address = (spec: FieldSpec): Field => fixedHex(spec, 20);

/** Hex data of whole bytes (calldata, log data), lower-cased. */
export function data(spec: FieldSpec): Field {
  return field(spec, lowerCasedHex(spec.raw, '0x([0-9a-f][0-9a-f])*', isHexData(spec.raw)));
}

/** The select list computing each field's typed value. */
export function fieldColumns(fields: readonly Field[]): string {
  return fields.map((f) => `${f.typed} AS ${f.column}`).join(',\n    ');
}

/** A check a query makes after the fields: the condition that must hold, and what it means. */
export interface Check {
  ok: string;
  tag: ErrorTag;
  method: string;
  /** SQL string expression: what went wrong, in the JS path's words. */
  detail: string;
}

/**
 * A query that converts fields and checks rows, in two renderings from the same parts: the
 * insert (`checkedInsertSql`), which tests each row with one conjunction and raises a bare
 * `unchecked` error on the first bad one, and the diagnosis (`diagnosisSql`), run only then,
 * which names that row's first problem. Naming every possible problem in the insert itself
 * would double its plan, paid on every statement of every batch.
 */
export interface CheckedQuery {
  /** A subquery with the fields' columns and whatever the checks and `select` use. */
  source: string;
  /** Checks before the fields (is there an answer at all), then the fields, then `checks`. */
  firstChecks?: readonly Check[];
  fields: readonly Field[];
  checks?: readonly Check[];
  /** The inserted columns. */
  select: string;
  orderBy?: string;
}

function oksOf(query: CheckedQuery): string[] {
  const checks = [...(query.firstChecks ?? []), ...(query.checks ?? [])];
  return [...checks.map((c) => `coalesce(${c.ok}, false)`), ...query.fields.map((f) => f.ok)];
}

/** `INSERT INTO table` the query's good rows; the first bad row raises `unchecked`. */
export function checkedInsertSql(table: string, query: CheckedQuery): string {
  const oks = oksOf(query);
  const where =
    oks.length === 0
      ? 'true'
      : `CASE WHEN ${oks.join('\n    AND ')} THEN true ELSE error(${text(UNCHECKED)}) END`;
  return `INSERT INTO ${table} SELECT ${query.select} FROM (${query.source})
    WHERE ${where}${query.orderBy ? `\n    ORDER BY ${query.orderBy}` : ''}`;
}

/**
 * The first bad row's problem as `tag|method|detail` (no row when all are good): a first check,
 * then a broken field (`wide` for a wei amount that is only large), then a check.
 */
export function diagnosisSql(query: CheckedQuery): string {
  const branch = (check: Check) =>
    `WHEN NOT coalesce(${check.ok}, false) THEN ${text(`${check.tag}|${check.method}|`)} || ${check.detail}`;
  const branches = [
    ...(query.firstChecks ?? []).map(branch),
    ...query.fields.flatMap((f) => [
      ...(f.wide ? [`WHEN ${f.broken} AND ${f.wide} THEN ${text(`wide|${f.method}|${f.path}`)}`] : []),
      `WHEN ${f.broken} THEN ${text(`invalid|${f.method}|${f.path}`)}`,
    ]),
    ...(query.checks ?? []).map(branch),
  ];
  return `SELECT problem FROM (SELECT CASE ${branches.join('\n      ')} END AS problem FROM (${query.source}))
    WHERE problem IS NOT NULL LIMIT 1`;
}

/** The error a checked insert raises for a bad row, before its diagnosis. */
const UNCHECKED = `${TAG_PREFIX}|unchecked`;

export function isUncheckedError(error: unknown): boolean {
  return error instanceof Error && error.message.includes(UNCHECKED);
}

/** A diagnosis's answer as the error it names. */
export function diagnosedError(problem: string): IngestSqlError {
  const error = IngestSqlError.from(new Error(`${TAG_PREFIX}|${problem}`));
  if (!error) throw new Error(`unreadable diagnosis ${JSON.stringify(problem)}`);
  return error;
}
