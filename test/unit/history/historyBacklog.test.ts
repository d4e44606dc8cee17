import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ModelRun, ModelRunStatus } from '../../../crds/generated/types.ts';
import {
  DELETED_RUN_RETENTION_MS,
  HistoryBacklog,
  MAX_DELETED_RUNS,
} from '../../../operator/history/historyBacklog.ts';

function run(uid: string, phase?: ModelRunStatus['phase']): ModelRun {
  return {
    metadata: { name: uid, namespace: 'ns', uid },
    spec: { model: 'ingest', chain: 'local' },
    ...(phase ? { status: { phase } } : {}),
  };
}

function backlogAt(start = 0): { backlog: HistoryBacklog; advance: (ms: number) => void } {
  let now = start;
  return { backlog: new HistoryBacklog(() => now), advance: (ms) => (now += ms) };
}

const dirtyUids = (backlog: HistoryBacklog) => [...backlog.take().runs.keys()].sort();

test('a write confirms what it took; a run changed meanwhile stays dirty', () => {
  const { backlog } = backlogAt();
  backlog.observe(run('a'));
  backlog.observe(run('b'));
  backlog.observe({ ...run(''), metadata: { name: 'no-uid' } });
  const snapshot = backlog.take();
  assert.deepEqual([...snapshot.runs.keys()].sort(), ['a', 'b'], 'an object without uid is not a run yet');
  backlog.observe(run('b', 'Running'));
  backlog.confirm(snapshot, 7);
  assert.deepEqual(dirtyUids(backlog), ['b']);
  assert.equal(backlog.cursor, 7);
});

test('a failed write confirms nothing: the next one carries everything', () => {
  const { backlog } = backlogAt();
  backlog.observe(run('a'));
  const first = backlog.take();
  // (the write failed: no confirm)
  backlog.observe(run('b'));
  assert.deepEqual(dirtyUids(backlog), ['a', 'b']);
  assert.equal(backlog.take().cursor, first.cursor);
});

test('facts that could not be read are not confirmed: the cursor stays, re-reads stay owed', () => {
  const { backlog } = backlogAt();
  backlog.observe(run('a', 'Running'));
  backlog.confirm(backlog.take(), 5);
  backlog.observe(run('a', 'Failed'));
  const snapshot = backlog.take();
  assert.deepEqual(snapshot.rereadFacts, ['a'], 'it just finished: its batches are read again');
  backlog.confirm(snapshot, undefined);
  assert.deepEqual([backlog.cursor, backlog.take().rereadFacts], [5, ['a']]);
  backlog.confirm(backlog.take(), 9);
  assert.deepEqual([backlog.cursor, backlog.take().rereadFacts], [9, []]);
});

test('a run first seen finished, or finishing while everything is to be read anyway, needs no re-read', () => {
  const { backlog } = backlogAt();
  backlog.observe(run('a', 'Succeeded'));
  backlog.observe(run('b', 'Running'));
  backlog.observe(run('b', 'Failed'));
  assert.deepEqual(backlog.take().rereadFacts, [], 'the cursor is 0: every fact is read');
});

test('markAllDirty: every known run (deleted ones too) is written again and every fact read', () => {
  const { backlog } = backlogAt();
  backlog.observe(run('a'));
  backlog.observeDeleted(run('b', 'Succeeded'));
  backlog.confirm(backlog.take(), 12);
  assert.deepEqual(dirtyUids(backlog), []);
  backlog.markAllDirty();
  assert.deepEqual([dirtyUids(backlog), backlog.cursor], [['a', 'b'], 0]);
});

test('a deleted run is kept until written, then for the retention time, for late facts', () => {
  const { backlog, advance } = backlogAt();
  backlog.observe(run('gone', 'Running'));
  backlog.observeDeleted(run('gone', 'Succeeded'));
  assert.equal(backlog.runOf('gone')?.status?.phase, 'Succeeded', 'its last state');
  advance(DELETED_RUN_RETENTION_MS * 2);
  backlog.confirm({ runs: new Map(), rereadFacts: [], cursor: 0 }, 0);
  assert.equal(backlog.knows('gone'), true, 'not written yet: never forgotten');
  backlog.confirm(backlog.take(), 1);
  advance(DELETED_RUN_RETENTION_MS - 1);
  backlog.confirm(backlog.take(), 1);
  assert.equal(backlog.knows('gone'), true);
  advance(1);
  backlog.confirm(backlog.take(), 1);
  assert.equal(backlog.knows('gone'), false);
});

test('a standby keeps at most MAX_DELETED_RUNS deleted runs, the newest', () => {
  const { backlog, advance } = backlogAt();
  for (let index = 0; index <= MAX_DELETED_RUNS; index++) {
    backlog.observeDeleted(run(`r${index}`));
    advance(1);
  }
  assert.equal(backlog.knows('r0'), false);
  assert.equal(backlog.knows('r1'), true);
  assert.equal(backlog.knows(`r${MAX_DELETED_RUNS}`), true);
});
