import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Storage } from '@google-cloud/storage';
import { stackEnv } from '../../../devtools/stackEnv.ts';
import { uniqueName } from '../../support/names.ts';

const storage = new Storage({ apiEndpoint: stackEnv().GCS_ENDPOINT, projectId: 'model-runner-local' });
const bucketName = uniqueName('svc-gcs');

after(async () => {
  await storage
    .bucket(bucketName)
    .deleteFiles({ force: true })
    .catch(() => undefined);
  await storage
    .bucket(bucketName)
    .delete()
    .catch(() => undefined);
});

test('gcs: objects uploaded through @google-cloud/storage list by prefix and download byte for byte', async () => {
  const [bucket] = await storage.createBucket(bucketName);
  const payload = Buffer.from(Array.from({ length: 4096 }, (_, i) => i % 251));
  await bucket.file('ingestion/logs_v1/chain=op/dt=2024-10-01/000123400000.parquet').save(payload);
  await bucket.file('ingestion/logs_v1/chain=op/dt=2024-10-02/000123500000.parquet').save(Buffer.from('b'));
  await bucket.file('ingestion/blocks_v1/chain=op/dt=2024-10-01/000123400000.parquet').save(Buffer.from('c'));

  const [files] = await bucket.getFiles({ prefix: 'ingestion/logs_v1/' });
  assert.deepEqual(
    files.map((f) => f.name),
    [
      'ingestion/logs_v1/chain=op/dt=2024-10-01/000123400000.parquet',
      'ingestion/logs_v1/chain=op/dt=2024-10-02/000123500000.parquet',
    ],
  );
  const [downloaded] = await bucket
    .file('ingestion/logs_v1/chain=op/dt=2024-10-01/000123400000.parquet')
    .download();
  assert.ok(downloaded.equals(payload), 'downloaded bytes differ from the upload');
});
