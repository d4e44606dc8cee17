// A data lake in Google Cloud Storage: `gs://bucket/prefix`. Every write is a single-object
// (non-resumable) upload, which GCS commits atomically: the object is replaced whole or
// not at all. Writes may be retried freely because a lake path always receives the same
// content for the same batch (deterministic paths), so uploads retry even without
// preconditions.
import { createWriteStream } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomBytes } from 'node:crypto';
import { IdempotencyStrategy, Storage } from '@google-cloud/storage';
import { type DataLake, type LakeBody, assertLakePath, normalizeLakePrefix } from './dataLake.ts';
import { assertBucketName } from './gcsBucketName.ts';

export { assertBucketName };

export interface GcsLakeOptions {
  bucket: string;
  /** Folder inside the bucket ('' for the bucket root). */
  prefix?: string;
  /** A custom endpoint, e.g. fake-gcs-server's `http://127.0.0.1:4443`; no auth is sent then. */
  endpoint?: string;
  /** Needed only to create buckets; with a custom endpoint it defaults to a placeholder. */
  projectId?: string;
}

export class GcsLake implements DataLake {
  readonly url: string;
  readonly storage: Storage;
  private readonly bucketName: string;
  private readonly prefix: string;

  constructor(options: GcsLakeOptions) {
    assertBucketName(options.bucket);
    this.bucketName = options.bucket;
    this.prefix = normalizeLakePrefix(options.prefix ?? '');
    this.url = `gs://${this.bucketName}${this.prefix ? `/${this.prefix}` : ''}`;
    this.storage = new Storage({
      ...(options.endpoint ? { apiEndpoint: options.endpoint } : {}),
      ...(options.projectId || options.endpoint
        ? { projectId: options.projectId ?? 'model-runner-local' }
        : {}),
      retryOptions: { autoRetry: true, maxRetries: 5, idempotencyStrategy: IdempotencyStrategy.RetryAlways },
    });
    if (options.endpoint) {
      // With STORAGE_EMULATOR_HOST set, the client takes that variable verbatim as its JSON
      // API base URL (without `/storage/v1`), and fake-gcs-server then answers 404 to
      // every metadata call. An explicit endpoint wins over the variable here.
      this.storage.baseUrl = `${options.endpoint.replace(/\/+$/, '')}/storage/v1`;
    }
  }

  /** Creates the bucket if it does not exist (tests and first-time setups). */
  async ensureBucket(): Promise<void> {
    const bucket = this.storage.bucket(this.bucketName);
    const [exists] = await bucket.exists();
    if (!exists) await bucket.create();
  }

  localFileOf(): undefined {
    return undefined;
  }

  async writeFile(path: string, body: LakeBody): Promise<void> {
    const file = this.file(path);
    if (body instanceof Uint8Array) {
      await file.save(Buffer.from(body.buffer, body.byteOffset, body.byteLength), {
        resumable: false,
        contentType: contentTypeOf(path),
      });
      return;
    }
    await pipeline(
      Readable.from(body),
      file.createWriteStream({ resumable: false, contentType: contentTypeOf(path) }),
    );
  }

  async writeFileFrom(path: string, localFile: string): Promise<void> {
    await this.storage.bucket(this.bucketName).upload(localFile, {
      destination: this.objectName(path),
      resumable: false,
      contentType: contentTypeOf(path),
    });
  }

  async readFile(path: string): Promise<Uint8Array> {
    const [contents] = await this.file(path).download();
    return contents;
  }

  async copyToLocalFile(path: string, localFile: string): Promise<void> {
    // Download beside the target, then rename: a reader never opens a half-written copy.
    const temp = `${localFile}.${randomBytes(6).toString('hex')}.part`;
    try {
      await pipeline(this.file(path).createReadStream(), createWriteStream(temp));
      await rename(temp, localFile);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw error;
    }
  }

  async exists(path: string): Promise<boolean> {
    const [exists] = await this.file(path).exists();
    return exists;
  }

  async list(prefix: string): Promise<string[]> {
    const folder = normalizeLakePrefix(prefix);
    const objectPrefix = [this.prefix, folder].filter((part) => part !== '').join('/');
    const [files] = await this.storage
      .bucket(this.bucketName)
      .getFiles({ prefix: objectPrefix === '' ? '' : `${objectPrefix}/`, autoPaginate: true });
    const strip = this.prefix === '' ? 0 : this.prefix.length + 1;
    return files.map((file) => file.name.slice(strip)).sort();
  }

  async delete(prefix = ''): Promise<number> {
    const paths = await this.list(prefix);
    // Bounded parallelism: thousands of sequential deletes would be slow, unbounded ones rude.
    const queue = [...paths];
    const workers = Array.from({ length: Math.min(16, queue.length) }, async () => {
      for (let path = queue.pop(); path !== undefined; path = queue.pop()) {
        await this.file(path).delete({ ignoreNotFound: true });
      }
    });
    await Promise.all(workers);
    return paths.length;
  }

  private objectName(path: string): string {
    assertLakePath(path);
    return this.prefix === '' ? path : `${this.prefix}/${path}`;
  }

  private file(path: string) {
    return this.storage.bucket(this.bucketName).file(this.objectName(path));
  }
}

function contentTypeOf(path: string): string {
  return path.endsWith('.parquet') ? 'application/vnd.apache.parquet' : 'application/octet-stream';
}
