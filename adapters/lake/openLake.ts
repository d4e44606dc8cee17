// Opens a data lake from its URL, as given on a command line or in a WorkerPool spec:
//   file:///abs/dir       a local folder
//   /abs/dir, ./dir       a local folder (relative paths resolve against the cwd)
//   gs://bucket/prefix    Google Cloud Storage (or fake-gcs-server through gcsEndpoint)
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidValueError } from '../../dataplane/validNames.ts';
import { type DataLake, normalizeLakePrefix } from './dataLake.ts';
import { assertBucketName } from './gcsBucketName.ts';
import { LocalLake } from './localLake.ts';

export interface OpenLakeOptions {
  /** For gs:// lakes: a custom endpoint (the worker passes GCS_ENDPOINT when set). */
  gcsEndpoint?: string;
  gcsProjectId?: string;
}

export type LakeLocation = { kind: 'local'; root: string } | { kind: 'gcs'; bucket: string; prefix: string };

/** Parses a lake URL without touching anything (pure). */
export function parseLakeUrl(url: string, cwd: string): LakeLocation {
  if (typeof url !== 'string' || url.trim() === '' || url.includes('\0')) {
    throw new InvalidValueError(`invalid lake URL ${JSON.stringify(url)}`);
  }
  if (url.startsWith('gs://')) {
    const rest = url.slice('gs://'.length).replace(/\/+$/, '');
    const slash = rest.indexOf('/');
    const bucket = slash === -1 ? rest : rest.slice(0, slash);
    const prefix = slash === -1 ? '' : rest.slice(slash + 1);
    assertBucketName(bucket);
    return { kind: 'gcs', bucket, prefix: normalizeLakePrefix(prefix) };
  }
  if (url.startsWith('file://')) return { kind: 'local', root: fileURLToPath(url) };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    throw new InvalidValueError(`unsupported lake URL ${JSON.stringify(url)}: use file://, a path, or gs://`);
  }
  return { kind: 'local', root: resolve(cwd, url) };
}

/** The lake at `url`; the GCS client is loaded only for a gs:// lake. */
export async function openLake(url: string, options: OpenLakeOptions = {}): Promise<DataLake> {
  const location = parseLakeUrl(url, process.cwd());
  if (location.kind === 'local') return new LocalLake(location.root);
  const { GcsLake } = await import('./gcsLake.ts');
  return new GcsLake({
    bucket: location.bucket,
    prefix: location.prefix,
    endpoint: options.gcsEndpoint,
    projectId: options.gcsProjectId,
  });
}
