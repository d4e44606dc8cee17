// HttpBodyPoster writes a 2xx answer's body to a file as it came, across many socket chunks,
// plain or gzip, without joining them in memory first.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { HttpBodyPoster, writeChunks } from '../../../adapters/ethereum/httpBodyToFile.ts';

let dir: string;
let server: Server;
let url: string;
/** 6 MB of JSON-ish text: many socket reads. */
const BODY = Buffer.from(
  JSON.stringify(
    Array.from({ length: 60_000 }, (_, i) => ({ id: i, result: `0x${i.toString(16).padStart(64, '0')}` })),
  ),
);

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'body-to-file-'));
  server = createServer((request, response) => {
    request.resume();
    if (request.url === '/gzip') {
      response.writeHead(200, { 'content-encoding': 'gzip' });
      response.end(gzipSync(BODY));
      return;
    }
    response.writeHead(200);
    // Small writes, so the client reads the body in many chunks.
    for (let start = 0; start < BODY.length; start += 4_096)
      response.write(BODY.subarray(start, start + 4_096));
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

test('a body of many chunks lands in the file byte for byte', async () => {
  const poster = new HttpBodyPoster(url, 1);
  const file = join(dir, 'plain.json');
  assert.deepEqual(await poster.post('{}', file, 10_000), { ok: true, bytes: BODY.length });
  assert.ok((await readFile(file)).equals(BODY));
});

test('a gzip answer is inflated into the file', async () => {
  const poster = new HttpBodyPoster(`${url}gzip`, 1);
  const file = join(dir, 'gzip.json');
  assert.deepEqual(await poster.post('{}', file, 10_000), { ok: true, bytes: BODY.length });
  assert.ok((await readFile(file)).equals(BODY));
});

test('more chunks than one writev takes are written in order', async () => {
  const chunks = Array.from({ length: 2_500 }, (_, i) => Buffer.from(`${i},`));
  const file = join(dir, 'chunks.txt');
  const bytes = await writeChunks(file, chunks);
  const expected = Buffer.concat(chunks);
  assert.equal(bytes, expected.length);
  assert.ok((await readFile(file)).equals(expected));
});

test('an empty body writes an empty file', async () => {
  const file = join(dir, 'empty.txt');
  assert.equal(await writeChunks(file, []), 0);
  assert.equal((await readFile(file)).length, 0);
});
