import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertLakePath, normalizeLakePrefix } from '../../../adapters/lake/dataLake.ts';
import { parseLakeUrl } from '../../../adapters/lake/openLake.ts';
import { InvalidValueError } from '../../../dataplane/validNames.ts';

describe('parseLakeUrl', () => {
  const cases: [string, ReturnType<typeof parseLakeUrl>][] = [
    ['file:///var/lake', { kind: 'local', root: '/var/lake' }],
    ['/var/lake', { kind: 'local', root: '/var/lake' }],
    ['lake', { kind: 'local', root: '/work/lake' }],
    ['./out/../lake', { kind: 'local', root: '/work/lake' }],
    ['gs://my-bucket', { kind: 'gcs', bucket: 'my-bucket', prefix: '' }],
    ['gs://my-bucket/', { kind: 'gcs', bucket: 'my-bucket', prefix: '' }],
    ['gs://my-bucket/env/prod', { kind: 'gcs', bucket: 'my-bucket', prefix: 'env/prod' }],
  ];
  for (const [url, expected] of cases) {
    it(url, () => assert.deepEqual(parseLakeUrl(url, '/work'), expected));
  }

  const bad = [
    '',
    's3://bucket/x',
    'http://host/x',
    'gs://',
    'gs://UPPER',
    'gs://b',
    'gs://bucket/../x',
    'gs://bucket//x',
    'a\0b',
  ];
  for (const url of bad) {
    it(`refuses ${JSON.stringify(url)}`, () =>
      assert.throws(() => parseLakeUrl(url, '/work'), InvalidValueError));
  }
});

describe('lake paths', () => {
  const good = ['ingestion/logs_v1/chain=op/dt=2024-10-01/000000000100.parquet', 'a', 'a/b.c'];
  for (const path of good) it(`accepts ${path}`, () => assert.doesNotThrow(() => assertLakePath(path)));

  const bad = ['', '/abs', 'a//b', 'a/../b', 'a/./b', '.hidden', 'a/.tmp', 'a/b/', 'a b', "a'b", 'a\\b'];
  for (const path of bad) {
    it(`refuses ${JSON.stringify(path)}`, () => assert.throws(() => assertLakePath(path), InvalidValueError));
  }

  it('normalizes folder prefixes', () => {
    assert.equal(normalizeLakePrefix(''), '');
    assert.equal(normalizeLakePrefix('ingestion/logs_v1/'), 'ingestion/logs_v1');
    assert.throws(() => normalizeLakePrefix('/'), InvalidValueError);
    assert.throws(() => normalizeLakePrefix('../x'), InvalidValueError);
  });
});
