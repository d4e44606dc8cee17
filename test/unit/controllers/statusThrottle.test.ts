import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ModelRunStatus } from '../../../crds/generated/types.ts';
import { StatusThrottle, canonicalJson } from '../../../controllers/modelrun/statusThrottle.ts';
import { at } from './runFixtures.ts';

const running = (progress: string): ModelRunStatus => ({ phase: 'Running', progress });

describe('StatusThrottle: at most one write per run per interval while it runs', () => {
  it('a sequence of reconciles of one run', () => {
    const throttle = new StatusThrottle(5_000);
    const steps: {
      seconds: number;
      current: ModelRunStatus | undefined;
      next: ModelRunStatus;
      expected: string;
      write?: boolean;
    }[] = [
      { seconds: 0, current: undefined, next: { phase: 'Pending' }, expected: 'write', write: true },
      { seconds: 0.1, current: undefined, next: { phase: 'Pending' }, expected: 'unchanged' },
      { seconds: 1, current: { phase: 'Pending' }, next: running('0/5'), expected: 'write', write: true },
      { seconds: 2, current: { phase: 'Pending' }, next: running('0/5'), expected: 'unchanged' },
      { seconds: 2, current: running('0/5'), next: running('1/5'), expected: 'later' },
      { seconds: 5.999, current: running('0/5'), next: running('2/5'), expected: 'later' },
      { seconds: 6, current: running('0/5'), next: running('2/5'), expected: 'write', write: true },
      {
        seconds: 7,
        current: running('2/5'),
        next: { phase: 'Succeeded', progress: '5/5' },
        expected: 'write',
        write: true,
      },
      {
        seconds: 7.5,
        current: running('2/5'),
        next: { phase: 'Succeeded', progress: '5/5' },
        expected: 'unchanged',
      },
    ];
    const decisions = steps.map(({ seconds, current, next, write }) => {
      const decision = throttle.decide('uid-1', current, next, at(seconds));
      if (write) throttle.written('uid-1', next, at(seconds));
      return decision;
    });
    assert.deepEqual(
      decisions,
      steps.map((step) => step.expected),
    );
  });

  it('a status equal to the cached one is unchanged, whatever the key order', () => {
    const throttle = new StatusThrottle(5_000);
    const cached = { phase: 'Running', progress: '1/5', batches: { total: 5, queued: 4 } } as ModelRunStatus;
    const reordered = {
      batches: { queued: 4, total: 5 },
      progress: '1/5',
      phase: 'Running',
    } as ModelRunStatus;
    assert.equal(throttle.decide('uid-1', cached, reordered, at(0)), 'unchanged');
    assert.equal(canonicalJson(cached), canonicalJson(reordered));
    assert.notEqual(canonicalJson({ list: [1, 2] }), canonicalJson({ list: [2, 1] }));
  });

  it('the first write of a run this process has not written is never held back', () => {
    const throttle = new StatusThrottle(5_000);
    throttle.written('uid-1', running('1/5'), at(0));
    assert.equal(throttle.decide('uid-2', running('0/5'), running('1/5'), at(0.5)), 'write');
  });

  it('a phase change goes out at once, even right after a write', () => {
    const throttle = new StatusThrottle(5_000);
    throttle.written('uid-1', running('1/5'), at(0));
    assert.equal(
      throttle.decide('uid-1', running('1/5'), { phase: 'Failed', progress: '4/5' }, at(0.1)),
      'write',
    );
  });

  it('waitMs: the rest of the interval, never less than 1 ms; forget starts afresh', () => {
    const throttle = new StatusThrottle(5_000);
    assert.equal(throttle.waitMs('uid-1', at(0)), 1);
    throttle.written('uid-1', running('1/5'), at(0));
    assert.equal(throttle.waitMs('uid-1', at(2)), 3_000);
    assert.equal(throttle.waitMs('uid-1', at(5)), 1);
    assert.equal(throttle.waitMs('uid-1', at(60)), 1);
    assert.equal(throttle.decide('uid-1', running('1/5'), running('2/5'), at(1)), 'later');
    throttle.forget('uid-1');
    assert.equal(throttle.decide('uid-1', running('1/5'), running('2/5'), at(1)), 'write');
  });
});
