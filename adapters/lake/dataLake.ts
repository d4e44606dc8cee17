// The data lake: where parquet files live, addressed by relative lake paths such as
// `ingestion/logs_v1/chain=op/dt=2024-10-01/000123400000.parquet`.
//
// Two promises every backend keeps:
// - a write is atomic: readers see the old object or the new one, never a partial file
//   (temp file + rename locally, a single-object upload on GCS);
// - rewriting a path replaces it, never adds a second copy, which is what makes a rerun
//   of a batch safe (paths are deterministic, see dataplane/paths.ts).
import { InvalidValueError } from '../../dataplane/validNames.ts';

export type LakeBody = Uint8Array | AsyncIterable<Uint8Array>;

export interface DataLake {
  /** `file:///abs/dir` or `gs://bucket/prefix`: where this lake is, for logs. */
  readonly url: string;
  /** Writes (or replaces) the object at `path`, atomically. */
  writeFile(path: string, body: LakeBody): Promise<void>;
  /** Uploads a finished local file (e.g. one DuckDB wrote) to `path`, atomically. */
  writeFileFrom(path: string, localFile: string): Promise<void>;
  readFile(path: string): Promise<Uint8Array>;
  /** Copies the object to a local file (for readers that want a file, e.g. DuckDB). */
  copyToLocalFile(path: string, localFile: string): Promise<void>;
  /**
   * The object's own local file when the lake is a local folder (readers may open it in
   * place and skip a copy); undefined for remote lakes.
   */
  localFileOf(path: string): string | undefined;
  exists(path: string): Promise<boolean>;
  /** Every file under the folder `prefix` ('' = the whole lake), as sorted lake paths. */
  list(prefix: string): Promise<string[]>;
  /** Deletes every file under the folder `prefix` ('' = the whole lake); returns how many. */
  delete(prefix?: string): Promise<number>;
}

/** One path segment: letters, digits, `_ = . -`, and not `.`/`..` or hidden. */
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_=.-]{0,254}$/;

function assertSegments(kind: string, value: string): void {
  if (typeof value !== 'string' || value.length > 1024) {
    throw new InvalidValueError(`invalid ${kind} ${JSON.stringify(value)}`);
  }
  for (const segment of value.split('/')) {
    if (!SEGMENT.test(segment) || segment === '.' || segment === '..') {
      throw new InvalidValueError(
        `invalid ${kind} ${JSON.stringify(value)}: each segment must match ${SEGMENT.source}`,
      );
    }
  }
}

/** A file path inside the lake: relative, no empty, dot or hidden segments. */
export function assertLakePath(path: string): void {
  assertSegments('lake path', path);
}

/** A folder inside the lake ('' for the whole lake); a trailing slash is allowed. */
export function normalizeLakePrefix(prefix: string): string {
  if (prefix === '') return '';
  const trimmed = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  assertSegments('lake prefix', trimmed);
  return trimmed;
}
