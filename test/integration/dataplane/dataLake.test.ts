// Both data lake backends against the same expectations: a local folder, and GCS through
// the stack's fake-gcs-server.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DataLake } from '../../../adapters/lake/dataLake.ts';
import { GcsLake } from '../../../adapters/lake/gcsLake.ts';
import { LocalLake } from '../../../adapters/lake/localLake.ts';
import { openLake } from '../../../adapters/lake/openLake.ts';
import { InvalidValueError } from '../../../dataplane/validNames.ts';
import { uniqueName } from '../../support/names.ts';
import { stackEnv } from '../../../devtools/stackEnv.ts';

const PATH = 'ingestion/logs_v1/chain=op/dt=2024-10-01/000000001200.parquet';

function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

function text(data: Uint8Array): string {
  return new TextDecoder().decode(data);
}

async function* chunks(...parts: string[]): AsyncIterable<Uint8Array> {
  for (const part of parts) yield bytes(part);
}

interface Backend {
  name: string;
  open(): Promise<DataLake>;
  cleanup(lake: DataLake): Promise<void>;
}

const scratch: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lake-test-'));
  scratch.push(dir);
  return dir;
}

const local: Backend = {
  name: 'local folder',
  open: async () => new LocalLake(await tempDir()),
  cleanup: async () => undefined,
};

const gcs: Backend = {
  name: 'GCS (fake-gcs-server)',
  open: async () => {
    const lake = new GcsLake({
      bucket: uniqueName('lake'),
      prefix: 'env/test',
      endpoint: stackEnv().GCS_ENDPOINT,
      projectId: 'model-runner-test',
    });
    await lake.ensureBucket();
    return lake;
  },
  cleanup: async (lake) => {
    await lake.delete();
    const gcsLake = lake as GcsLake;
    await gcsLake.storage.bucket(new URL(gcsLake.url).hostname).delete();
  },
};

after(async () => {
  for (const dir of scratch) await rm(dir, { recursive: true, force: true });
});

for (const backend of [local, gcs]) {
  describe(`data lake on ${backend.name}`, () => {
    let lake: DataLake;
    before(async () => {
      lake = await backend.open();
    });
    after(async () => backend.cleanup(lake));

    it('writes, reads back and reports existence', async () => {
      assert.equal(await lake.exists(PATH), false);
      await lake.writeFile(PATH, bytes('first version'));
      assert.equal(await lake.exists(PATH), true);
      assert.equal(text(await lake.readFile(PATH)), 'first version');
      assert.equal(await lake.exists(PATH.replace('1200', '1300')), false);
    });

    it('replaces on rewrite, never duplicates', async () => {
      const path = 'replace/chain=op/dt=2024-10-01/000000000000.parquet';
      await lake.writeFile(path, bytes('old contents, longer than the new ones'));
      await lake.writeFile(path, bytes('new'));
      assert.equal(text(await lake.readFile(path)), 'new');
      assert.deepEqual(await lake.list('replace'), [path]);
    });

    it('writes a stream of chunks', async () => {
      const path = 'stream/a.bin';
      await lake.writeFile(path, chunks('one ', 'two ', 'three'));
      assert.equal(text(await lake.readFile(path)), 'one two three');
    });

    it('uploads from and copies to local files', async () => {
      const dir = await tempDir();
      const source = join(dir, 'source.parquet');
      await writeFile(source, 'from a local file');
      await lake.writeFileFrom('files/x.parquet', source);
      const target = join(dir, 'copy.parquet');
      await lake.copyToLocalFile('files/x.parquet', target);
      assert.equal(await readFile(target, 'utf8'), 'from a local file');
      assert.deepEqual(await readdir(dir), ['copy.parquet', 'source.parquet']);
    });

    it('lists a folder, sorted, not a string prefix', async () => {
      const paths = ['list/b/2.parquet', 'list/a/1.parquet', 'list/a/0.parquet', 'list/ab/3.parquet'];
      for (const path of paths) await lake.writeFile(path, bytes(path));
      assert.deepEqual(await lake.list('list/a'), ['list/a/0.parquet', 'list/a/1.parquet']);
      assert.deepEqual(await lake.list('list/a/'), ['list/a/0.parquet', 'list/a/1.parquet']);
      assert.deepEqual(await lake.list('list'), [
        'list/a/0.parquet',
        'list/a/1.parquet',
        'list/ab/3.parquet',
        'list/b/2.parquet',
      ]);
      assert.deepEqual(await lake.list('list/none'), []);
      assert.ok((await lake.list('')).includes('list/b/2.parquet'));
    });

    it('deletes a folder and says how many files went', async () => {
      for (const path of ['del/x/1', 'del/x/2', 'del/y/3']) await lake.writeFile(path, bytes(path));
      assert.equal(await lake.delete('del/x'), 2);
      assert.deepEqual(await lake.list('del'), ['del/y/3']);
      assert.equal(await lake.delete('del/x'), 0);
    });

    it('never shows a reader a partial file while it is rewritten', async () => {
      const path = 'atomic/big.bin';
      const versions = ['a', 'b', 'c', 'd'].map((letter) => letter.repeat(512 * 1024));
      await lake.writeFile(path, bytes(versions[0]!));
      const seen = new Set<string>();
      let writing = true;
      const reader = (async () => {
        while (writing) {
          const data = await lake.readFile(path);
          const uniform = data.every((byte) => byte === data[0]);
          seen.add(`${text(data.subarray(0, 1))}${data.length}${uniform ? '' : ' mixed'}`);
        }
      })();
      try {
        for (const version of versions.slice(1))
          await lake.writeFile(path, chunks(version.slice(0, 1000), version.slice(1000)));
      } finally {
        writing = false; // the reader stops even when a write fails
        await reader;
      }
      assert.ok(seen.size > 0);
      for (const entry of seen) assert.match(entry, /^[abcd]524288$/);
      assert.equal(text(await lake.readFile(path)), versions[3]);
    });

    it('refuses paths that could escape or hide', async () => {
      for (const path of ['../outside', '/abs', 'a//b', '.hidden', 'a/../../b']) {
        await assert.rejects(() => lake.writeFile(path, bytes('x')), InvalidValueError);
        await assert.rejects(() => lake.exists(path), InvalidValueError);
      }
      await assert.rejects(() => lake.list('../'), InvalidValueError);
    });

    it('reports a missing object as an error', async () => {
      await assert.rejects(() => lake.readFile('missing/file.parquet'));
    });
  });
}

describe('local lake specifics', () => {
  it('keeps the old file and leaves no temp file when a write fails midway', async () => {
    const lake = new LocalLake(await tempDir());
    await lake.writeFile('f/x.parquet', bytes('good'));
    async function* failing(): AsyncIterable<Uint8Array> {
      yield bytes('partial');
      throw new Error('upstream broke');
    }
    await assert.rejects(() => lake.writeFile('f/x.parquet', failing()), /upstream broke/);
    assert.equal(text(await lake.readFile('f/x.parquet')), 'good');
    assert.deepEqual(await readdir(join(lake.root, 'f')), ['x.parquet']);
  });

  it('skips hidden temp files in listings and exposes objects in place', async () => {
    const lake = new LocalLake(await tempDir());
    await lake.writeFile('g/x.parquet', bytes('x'));
    await writeFile(join(lake.root, 'g', '.x.parquet.abc.tmp'), 'in flight');
    assert.deepEqual(await lake.list('g'), ['g/x.parquet']);
    assert.equal(await readFile(lake.localFileOf('g/x.parquet'), 'utf8'), 'x');
  });
});

describe('openLake', () => {
  it('opens a local folder from a file URL or a path', async () => {
    const dir = await tempDir();
    for (const url of [`file://${dir}`, dir]) {
      const lake = await openLake(url);
      assert.ok(lake instanceof LocalLake);
      assert.equal(lake.url, `file://${dir}`);
    }
  });

  it('opens a gs:// lake on the emulator, even with STORAGE_EMULATOR_HOST set', async () => {
    // The stack exports STORAGE_EMULATOR_HOST without `/storage/v1`, which the client
    // would otherwise use verbatim as its API base URL.
    process.env.STORAGE_EMULATOR_HOST = stackEnv().GCS_ENDPOINT;
    try {
      const bucket = uniqueName('open');
      const lake = await openLake(`gs://${bucket}/some/prefix`, { gcsEndpoint: stackEnv().GCS_ENDPOINT });
      assert.ok(lake instanceof GcsLake);
      assert.equal(lake.url, `gs://${bucket}/some/prefix`);
      await lake.ensureBucket();
      await lake.writeFile('x/y.parquet', bytes('z'));
      assert.deepEqual(await lake.list(''), ['x/y.parquet']);
      const [objects] = await lake.storage.bucket(bucket).getFiles();
      assert.deepEqual(
        objects.map((object) => object.name),
        ['some/prefix/x/y.parquet'],
      );
      await gcs.cleanup(lake);
    } finally {
      delete process.env.STORAGE_EMULATOR_HOST;
    }
  });
});
