// Every name that travels between the API (custom resources), the operator and the workers,
// with its one rule. The CRD generator writes these same patterns into the CEL rules of the
// schemas (crds/generatedFiles.ts), so admission, the operator and the workers cannot drift:
// a name the API server accepts is a name every other part accepts.
//
// Patterns use only what both JavaScript and RE2 (CEL's `matches`) read the same way.

export interface NameRule {
  /** What the name is, for messages: "chain name". */
  what: string;
  pattern: RegExp;
  maxLength: number;
  /** Said after "must be …" in messages and in the CRD descriptions. */
  shape: string;
  examples: readonly string[];
}

const IDENTIFIER = '[a-z][a-z0-9]*(?:_[a-z0-9]+)*';

/**
 * Chains: a lower-case identifier, at most 40 characters so every queue named after it
 * (`<chain>_backfill_nonreads`) stays within 63. No hyphen, which the Kafka topic
 * `<env>-<chain>-sink` relies on.
 */
export const CHAIN_NAME: NameRule = {
  what: 'chain name',
  pattern: new RegExp(`^${IDENTIFIER}$`),
  maxLength: 40,
  shape:
    'a lower-case identifier: a letter, then lower-case letters and digits, words joined by single underscores',
  examples: ['ethereum', 'op', 'base', 'matic'],
};

/** Models and their datasets: one segment of a lake root path (`blockbatch/<model>/<dataset>_v<n>`). */
export const MODEL_NAME: NameRule = {
  what: 'model name',
  pattern: new RegExp(`^${IDENTIFIER}$`),
  maxLength: 63,
  shape:
    'a lower-case identifier: a letter, then lower-case letters and digits, words joined by single underscores',
  examples: ['ingest', 'erc20_transfers'],
};

/** Model versions as the API writes them (`v1`), the suffix of the output root path. */
export const MODEL_VERSION: NameRule = {
  what: 'model version',
  pattern: /^v[1-9][0-9]{0,3}$/,
  maxLength: 5,
  shape: 'the letter v and a number from 1 to 9999',
  examples: ['v1', 'v2'],
};

/**
 * Work queues: a lane queue `<chain>_<realtime|backfill>_<reads|nonreads>`, or one of the
 * ad-hoc lanes `backfill_1` … `backfill_4`. Nothing else reaches the broker.
 */
export const QUEUE_NAME: NameRule = {
  what: 'queue name',
  pattern: new RegExp(`^(${IDENTIFIER}_(realtime|backfill)_(reads|nonreads)|backfill_[1-4])$`),
  maxLength: 63,
  shape:
    'a lane queue <chain>_<realtime|backfill>_<reads|nonreads> or an ad-hoc lane backfill_1 to backfill_4',
  examples: ['ethereum_realtime_reads', 'op_backfill_nonreads', 'backfill_1'],
};

/** Kafka topics a run may name: words of lower-case letters and digits joined by `-` or `_`. */
export const TOPIC_NAME: NameRule = {
  what: 'topic name',
  pattern: /^[a-z][a-z0-9]*([-_][a-z0-9]+)*$/,
  maxLength: 127,
  shape: "lower-case letters and digits in words joined by single '-' or '_', starting with a letter",
  examples: ['prod-ethereum-sink'],
};

/** The `<env>` of the default sink topic `<env>-<chain>-sink`: no hyphen, the topic splits on them. */
export const SINK_ENV_NAME: NameRule = {
  what: 'sink environment',
  pattern: /^[a-z][a-z0-9]*$/,
  maxLength: 16,
  shape: 'lower-case letters and digits, starting with a letter',
  examples: ['prod', 'staging', 'dev'],
};

/** Kubernetes namespaces (DNS labels). */
export const NAMESPACE_NAME: NameRule = {
  what: 'namespace',
  pattern: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
  maxLength: 63,
  shape: "a DNS label: lower-case letters, digits and '-', starting and ending with a letter or digit",
  examples: ['default', 'data-team'],
};

/** ModelRun names: DNS labels of at most 52 characters, so Job and Pod names derived from them fit. */
export const RUN_NAME: NameRule = {
  what: 'ModelRun name',
  pattern: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
  maxLength: 52,
  shape: "a DNS label: lower-case letters, digits and '-', starting and ending with a letter or digit",
  examples: ['transfers-2024-10'],
};

/** Object uids, as the API server makes them (RFC 4122); tests and the CLI use other short ids. */
export const RUN_UID: NameRule = {
  what: 'run uid',
  pattern: /^[A-Za-z0-9][A-Za-z0-9-]*$/,
  maxLength: 64,
  shape: "letters, digits and '-'",
  examples: ['0b6b4f3e-3f0e-4c55-9d1a-2f4b8c1d2e3f'],
};

/** True when `value` is a string that follows `rule`. */
export function followsNameRule(rule: NameRule, value: unknown): value is string {
  return typeof value === 'string' && value.length <= rule.maxLength && rule.pattern.test(value);
}

/** Why `value` breaks `rule`, or undefined when it follows it. */
export function nameRuleProblem(rule: NameRule, value: unknown): string | undefined {
  if (typeof value !== 'string') return `${rule.what} must be a string`;
  if (value.length > rule.maxLength) {
    return `${rule.what} ${JSON.stringify(value.slice(0, 80))} is longer than ${rule.maxLength} characters`;
  }
  if (!rule.pattern.test(value)) {
    return `${rule.what} ${JSON.stringify(value.slice(0, 80))} must be ${rule.shape} (e.g. ${rule.examples.join(', ')})`;
  }
  return undefined;
}

/** Throws an Error of the caller's class with the problem; returns the value, typed. */
export function requireName(
  rule: NameRule,
  value: unknown,
  makeError: (message: string) => Error = (message) => new Error(message),
): string {
  const problem = nameRuleProblem(rule, value);
  if (problem !== undefined) throw makeError(problem);
  return value as string;
}
