import { describe, expect, it } from 'vitest';
import { startPosition } from '../src/startPosition.js';

describe('startPosition', () => {
  it("a pending reset wins over the sink's own position, backwards and forwards", () => {
    expect(startPosition({ offset: 3n, resetPending: true }, 100n)).toEqual({ offset: 3n, from: 'reset' });
    expect(startPosition({ offset: 500n, resetPending: true }, 100n)).toEqual({
      offset: 500n,
      from: 'reset',
    });
    // A partition the sink never wrote: the reset still decides.
    expect(startPosition({ offset: 7n, resetPending: true }, undefined)).toEqual({
      offset: 7n,
      from: 'reset',
    });
  });

  it("without a pending reset the sink's position wins: the control plane's copy may lag a commit", () => {
    expect(startPosition({ offset: 90n, resetPending: false }, 100n)).toEqual({ offset: 100n, from: 'sink' });
    expect(startPosition(undefined, 100n)).toEqual({ offset: 100n, from: 'sink' });
    expect(startPosition({ offset: 90n, resetPending: false }, undefined)).toEqual({
      offset: 90n,
      from: 'control-plane',
    });
    expect(startPosition(undefined, undefined)).toEqual({ offset: undefined, from: 'log-start' });
  });

  it('a task that dies between the reset and its first commit leaves the reset for the next one', () => {
    const reset = { offset: 3n, resetPending: true };
    // The first holder started from the reset and copied 3..9 but died before committing: neither the
    // sink's position nor the flag moved, so the next holder decides the same.
    expect(startPosition(reset, 100n)).toEqual(startPosition(reset, 100n));
    expect(startPosition(reset, 100n).offset).toBe(3n);
    // Its first commit moves both (the sink to 10, the flag cleared): a later restart resumes at 10.
    expect(startPosition({ offset: 10n, resetPending: false }, 10n)).toEqual({ offset: 10n, from: 'sink' });
  });
});
