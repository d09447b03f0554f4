import { OPERATION_JOB_OPTIONS, operationRetryDelayMs } from '@fjord/contracts';
import { describe, expect, it } from 'vitest';

describe('operation retries', () => {
  it('back off from 0.5 s to a 15 s cap and keep trying for minutes, not seconds', () => {
    expect(operationRetryDelayMs(1)).toBe(500);
    expect(operationRetryDelayMs(2)).toBe(1000);
    expect(operationRetryDelayMs(20)).toBe(15_000);
    let total = 0;
    for (let n = 1; n < OPERATION_JOB_OPTIONS.attempts; n++) total += operationRetryDelayMs(n);
    expect(total).toBeGreaterThan(5 * 60_000);
    expect(total).toBeLessThan(15 * 60_000);
  });
});
